"""Reads of organizations and domains (public schema)."""

from __future__ import annotations

import copy

from django.conf import settings
from django.db.models import QuerySet

from apps.core.memo import TimedMemo
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


# Every chat turn and every job message asks for the organization of a schema. Remembered per process
# for a few seconds: an edit made here (organization_update) is seen at once, elsewhere within this.
ORGANIZATION_CACHE_SECONDS = 5.0
_by_schema = TimedMemo(ORGANIZATION_CACHE_SECONDS)


def organization_for_schema(schema_name: str) -> Organization | None:
    """The organization that owns `schema_name`, or None when there is none (deleted since)."""
    organization = _by_schema.get(schema_name)
    if organization is None:
        organization = Organization.objects.filter(schema_name=schema_name).first()
        if organization is None:
            _by_schema.forget(schema_name)
            return None
        _by_schema.put(schema_name, organization)
    return copy.copy(organization)  # callers may change their instance; the remembered one stays as read


def organization_forget(schema_name: str | None = None) -> None:
    """Drop the remembered organization of `schema_name` (of every schema when None)."""
    _by_schema.forget(schema_name)
