"""GET /api/v1/events/: the organization's events, newest first, filter `type`, nothing of another organization."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.events.services import event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org, api_key, client_for):
    return client_for(org, api_key=api_key)


def test_events_list_newest_first_with_type_filter(api, org):
    with tenant_context(org):
        first = event_record(type="lead.created", data={"lead": {"id": 1}})
        second = event_record(type="lead.status_changed", data={"lead": {"id": 1}, "previous_status": "new"})
    body = api.get("/api/v1/events/").json()
    assert [item["id"] for item in body["results"]] == [str(second.uid), str(first.uid)]
    assert set(body["results"][0]) == {"id", "type", "data", "created_at"}
    assert body["results"][0]["data"] == {"lead": {"id": 1}, "previous_status": "new"}
    only = api.get("/api/v1/events/", {"type": "lead.created"}).json()
    assert [item["type"] for item in only["results"]] == ["lead.created"]


@pytest.mark.parametrize("value", ["lead.exploded", "lead\x00created"])
def test_an_unknown_type_filter_is_400_naming_it(api, value):
    # A NUL byte reached PostgreSQL and failed there: a 500.
    response = api.get("/api/v1/events/", {"type": value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "type"


def test_unknown_event_types_are_refused():
    with pytest.raises(ValueError):
        event_record(type="lead.exploded", data={})


def test_events_of_another_organization_are_invisible(api, org, other_org, client_for):
    from apps.accounts.services import api_key_create

    with tenant_context(org):
        event_record(type="lead.created", data={"lead": {"id": 1}})
    _, other_key = api_key_create(organization=other_org, name="other")
    assert client_for(org, api_key=other_key).get("/api/v1/events/").status_code == 401
    assert client_for(other_org, api_key=other_key).get("/api/v1/events/").json()["count"] == 0


def test_events_list_query_count_is_fixed(api, org):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v1/events/?page_size=50").status_code == 200
        return len(queries.captured_queries)

    with tenant_context(org):
        for n in range(3):
            event_record(type="lead.created", data={"lead": {"id": n}})
    api.get("/api/v1/events/")
    few = count()
    with tenant_context(org):
        for n in range(3):
            event_record(type="lead.updated", data={"lead": {"id": n}})
    assert count() == few
