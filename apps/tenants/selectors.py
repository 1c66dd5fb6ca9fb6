"""Reads of organizations and domains (public schema)."""

from __future__ import annotations

import copy
import time

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


# Every chat turn and every job message asks for the organization of a schema. Remembered per process
# for a few seconds: an edit made here (organization_update) is seen at once, elsewhere within this.
ORGANIZATION_CACHE_SECONDS = 5.0
_by_schema: dict[str, tuple[float, Organization]] = {}


def organization_for_schema(schema_name: str) -> Organization | None:
    """The organization that owns `schema_name`, or None when there is none (deleted since)."""
    now = time.monotonic()
    cached = _by_schema.get(schema_name)
    if cached is None or now - cached[0] >= ORGANIZATION_CACHE_SECONDS:
        organization = Organization.objects.filter(schema_name=schema_name).first()
        if organization is None:
            _by_schema.pop(schema_name, None)
            return None
        cached = _by_schema[schema_name] = (now, organization)
    return copy.copy(cached[1])  # callers may change their instance; the remembered one stays as read


def organization_forget(schema_name: str | None = None) -> None:
    """Drop the remembered organization of `schema_name` (of every schema when None)."""
    if schema_name is None:
        _by_schema.clear()
    else:
        _by_schema.pop(schema_name, None)
