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


def _search_path_sets(queries) -> list[str]:
    return [query["sql"] for query in queries if query["sql"].startswith("SET search_path")]


def test_entering_the_schema_the_connection_already_searches_sends_no_set(org, other_org):
    from django.test.utils import CaptureQueriesContext

    with schema_context(org.schema_name):
        _listing("acme's")
    with schema_context(other_org.schema_name):
        _listing("globex's")
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):  # as a websocket turn's hops do, each entering the organization again
            with schema_context(org.schema_name):
                assert list(Property.objects.values_list("title", flat=True)) == ["acme's"]
    assert len(_search_path_sets(queries)) == 1, queries.captured_queries
    with CaptureQueriesContext(connection) as queries:
        with schema_context(other_org.schema_name):  # another schema: SET before its first query
            assert list(Property.objects.values_list("title", flat=True)) == ["globex's"]
        with schema_context(org.schema_name):
            assert list(Property.objects.values_list("title", flat=True)) == ["acme's"]
    assert len(_search_path_sets(queries)) == 2, queries.captured_queries


def _session_search_path() -> list[str]:
    with connection.connection.cursor() as cursor:  # psycopg's own: no SET on the way
        cursor.execute("SELECT current_setting('search_path')")
        return [name.strip().strip('"') for name in cursor.fetchone()[0].split(",")]


def test_what_the_backend_believes_set_is_the_session_search_path(org, other_org):
    # After every step, including rollbacks that undo a SET, what the backend would skip setting
    # again is what PostgreSQL has.
    def check() -> None:
        believed = connection.session_search_path
        assert believed is None or believed == _session_search_path()

    connection.set_schema(other_org.schema_name)
    list(Property.objects.all())
    check()
    try:
        with transaction.atomic():
            connection.set_schema(org.schema_name)
            list(Property.objects.all())  # SET to acme inside the savepoint
            check()
            raise RuntimeError("fails after reading")
    except RuntimeError:
        pass
    check()
    with schema_context(other_org.schema_name):
        assert list(Property.objects.all()) == []
        check()
    with schema_context(org.schema_name):
        _listing("acme's")
        check()
    assert connection.session_search_path == [org.schema_name, "public", "extensions"]
    connection.set_schema_to_public()
