"""Reads of organizations and domains (public schema)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from apps.tenants.models import Organization


def public_organization() -> Organization:
    """The public tenant row; an unsaved stand-in before `init_platform` has created it."""
    found = Organization.objects.filter(schema_name=settings.PUBLIC_SCHEMA_NAME).first()
    return found or Organization(schema_name=settings.PUBLIC_SCHEMA_NAME, slug="public", name="Platform")


def organization_list() -> QuerySet[Organization]:
    """Every agency, without the public tenant."""
    return Organization.objects.exclude(schema_name=settings.PUBLIC_SCHEMA_NAME).order_by("slug")


def organization_get(*, slug: str) -> Organization | None:
    return organization_list().filter(slug=slug).first()
