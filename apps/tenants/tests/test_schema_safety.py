"""A failed nested transaction must never leave queries running in another tenant's schema."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.properties.models import Property


def _listing(title: str) -> Property:
    return Property.objects.create(title=title, property_type="house", listing_type="sale", price=1, city="X")


@pytest.mark.parametrize("limit_set_calls", [False, True])
def test_savepoint_rollback_never_reads_another_tenant(org, other_org, settings, limit_set_calls):
    # PostgreSQL undoes the SET issued inside the savepoint; with TENANT_LIMIT_SET_CALLS a
    # django-tenants that kept trusting its cached path (before the fix of its issue #1262) would
    # answer with globex's rows here.
    settings.TENANT_LIMIT_SET_CALLS = limit_set_calls
    with schema_context(org.schema_name):
        _listing("acme's")
    with schema_context(other_org.schema_name):
        _listing("globex's")
    connection.set_schema(other_org.schema_name)
    assert list(Property.objects.values_list("title", flat=True)) == ["globex's"]  # session: globex
    try:
        with transaction.atomic():  # SAVEPOINT, taken while the session reads globex
            connection.set_schema(org.schema_name)
            list(Property.objects.all())  # SET search_path to acme, inside the savepoint
            raise RuntimeError("fails after reading")
    except RuntimeError:
        pass
    # The savepoint's rollback put the session back on globex; the next query must say acme again.
    assert connection.schema_name == org.schema_name
    assert list(Property.objects.values_list("title", flat=True)) == ["acme's"]
    connection.set_schema_to_public()


@pytest.mark.parametrize("slug", ["extensions", "public", "tenant-template", "information-schema"])
def test_no_organization_can_take_a_schema_the_platform_uses(db, slug):
    # Startup skips django-tenants' database check of PG_EXTRA_SEARCH_PATHS (SKIP_PG_EXTRA_VALIDATION):
    # this is what makes it safe. `extensions` holds pgvector and pg_trgm for every tenant.
    from apps.core.errors import ApplicationError
    from apps.tenants.models import Organization
    from apps.tenants.services import organization_create

    before = list(Organization.objects.filter(slug=slug))  # the public tenant's own row is `public`
    with pytest.raises(ApplicationError) as refused:
        organization_create(slug=slug, name="Squatter", owner_email=f"owner@{slug}.test")
    assert refused.value.attr == "slug"
    assert list(Organization.objects.filter(slug=slug)) == before
