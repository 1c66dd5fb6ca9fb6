"""Registry of usage counters: each domain tells billing how to count what it owns."""

from __future__ import annotations

from collections.abc import Callable

from django_tenants.utils import schema_context

from apps.tenants.models import Organization

UsageCounter = Callable[[Organization], int]
_counters: dict[str, UsageCounter] = {}


def usage_counter(key: str) -> Callable[[UsageCounter], UsageCounter]:
    """Decorator: `@usage_counter("listings")` on a function(organization) -> int.

    The function runs inside the organization's schema: usage_get enters it.
    """

    def register(func: UsageCounter) -> UsageCounter:
        _counters[key] = func
        return func

    return register


def usage_get(*, organization: Organization, key: str) -> int:
    try:
        counter = _counters[key]
    except KeyError:
        raise LookupError(f"No usage counter is registered for entitlement '{key}'.") from None
    # Entering the schema a chat turn already runs in sends no `SET search_path` (the backend skips it).
    with schema_context(organization.schema_name):
        return counter(organization)


def registered_keys() -> list[str]:
    return sorted(_counters)
