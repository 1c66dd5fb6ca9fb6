"""Leads over the API: 201 new / 200 merge, filters, patch, roles, isolation and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.events.models import Event
from apps.leads.models import Lead, LeadStatusChange
from apps.leads.services import lead_capture

pytestmark = pytest.mark.django_db

FIELDS = {
    "id", "name", "email", "phone", "status", "source", "score", "attributes", "owner", "conversation",
    "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def api(org, api_key, client_for):
    return client_for(org, api_key=api_key)


def test_post_creates_then_merges(api, org):
    first = api.post(
        "/api/v1/leads/",
        {"name": "Ana", "email": "Ana@Example.com", "phone": "(512) 555-0100", "attributes": {"areas": ["Zilker"]}},
        format="json",
    )
    assert first.status_code == 201
    body = first.json()
    assert set(body) == FIELDS
    assert body["status"] == "new" and body["source"] == "api" and body["phone"] == "+15125550100"
    second = api.post(
        "/api/v1/leads/", {"phone": "+1 512 555 0100", "attributes": {"areas": ["Hyde Park"]}}, format="json"
    )
    assert second.status_code == 200
    assert second.json()["id"] == body["id"] and second.json()["attributes"]["areas"] == ["Zilker", "Hyde Park"]
    third = api.post("/api/v1/leads/", {"email": "ANA@example.com"}, format="json")
    assert third.status_code == 200 and third.json()["id"] == body["id"]
    with tenant_context(org):
        assert Lead.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"email": "nope"}, "email"),
        ({"email": "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".test"}, "email"),  # valid, longer than the column
        ({"phone": "123"}, "phone"),
        ({"name": "No contact"}, "email"),
        ({"email": "a@b.co", "source": "carrier-pigeon"}, "source"),
        ({"email": "a@b.co", "attributes": ["not", "an", "object"]}, "attributes"),
        # Each capture's attributes are kept in the merge log: one request cannot grow a lead without bound.
        ({"email": "a@b.co", "attributes": {f"k{n}": n for n in range(51)}}, "attributes"),
        ({"email": "a@b.co", "attributes": {"k" * 101: 1}}, "attributes"),
        ({"email": "a@b.co", "attributes": {"notes": "x" * 17_000}}, "attributes"),
        # jsonb refuses a NUL and the Infinity json makes of 1e400: both were 500s.
        ({"email": "a@b.co", "attributes": {"a\x00": "b"}}, "attributes"),
        ({"email": "a@b.co", "attributes": {"notes": ["x\x00"]}}, "attributes"),
    ],
)
def test_post_validation(api, org, payload, attr):
    response = api.post("/api/v1/leads/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
    with tenant_context(org):
        assert not Event.objects.exists()


def test_retrieve_and_patch(api, org, member_of):
    agent = member_of(org, "member")
    created = api.post("/api/v1/leads/", {"email": "bo@example.com"}, format="json").json()
    url = f"/api/v1/leads/{created['id']}/"
    assert api.get(url).json() == created
    patched = api.patch(
        url, {"status": "contacted", "owner": agent.pk, "attributes": {"timeline": "asap"}}, format="json"
    )
    assert patched.status_code == 200
    body = patched.json()
    assert body["status"] == "contacted" and body["owner"] == agent.pk and body["attributes"] == {"timeline": "asap"}
    assert api.patch(url, {"status": "archived"}, format="json").status_code == 400
    assert api.put(url, {"status": "won"}, format="json").status_code == 405
    assert api.delete(url).status_code == 405
    with tenant_context(org):
        assert LeadStatusChange.objects.get().to_status == "contacted"
        assert set(Event.objects.values_list("type", flat=True)) == {
            "lead.created", "lead.updated", "lead.status_changed"
        }  # fmt: skip


def test_owner_must_be_a_member(api, org, other_org, member_of):
    outsider = member_of(other_org, "admin", email="boss@globex.test")
    created = api.post("/api/v1/leads/", {"email": "cy@example.com"}, format="json").json()
    response = api.patch(f"/api/v1/leads/{created['id']}/", {"owner": outsider.pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "owner"


def test_patch_to_a_taken_email_is_a_conflict(api):
    api.post("/api/v1/leads/", {"email": "di@example.com"}, format="json")
    other = api.post("/api/v1/leads/", {"email": "ed@example.com"}, format="json").json()
    response = api.patch(f"/api/v1/leads/{other['id']}/", {"email": "DI@example.com"}, format="json")
    assert response.status_code == 409 and response.json()["errors"][0]["attr"] == "email"


@pytest.fixture
def leads(org):
    with tenant_context(org):
        a, _ = lead_capture(name="Ana Diaz", email="ana@example.com", source="chat")
        b, _ = lead_capture(name="Bo Berg", phone="512 555 0101", source="facebook")
        c, _ = lead_capture(name="Cy Chan", email="cy@sample.org", phone="+1 303 555 0123", source="chat")
        c.status = "won"
        c.save()
    return {"a": a.pk, "b": b.pk, "c": c.pk}


@pytest.mark.parametrize(
    ("params", "want"),
    [
        ({}, {"a", "b", "c"}),
        ({"status": "new"}, {"a", "b"}),
        ({"status": "won"}, {"c"}),
        ({"source": "chat"}, {"a", "c"}),
        ({"source": "chat", "status": "new"}, {"a"}),
        ({"q": "ana"}, {"a"}),
        ({"q": "SAMPLE.ORG"}, {"c"}),
        ({"q": "(512) 555-0101"}, {"b"}),
        ({"q": "berg", "source": "chat"}, set()),
    ],
)
def test_list_filters(api, leads, params, want):
    body = api.get("/api/v1/leads/", params).json()
    assert {item["id"] for item in body["results"]} == {leads[key] for key in want}
    assert body["count"] == len(want)


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a@b.co", "attributes": {"budget_max": 1e400}}',
        '{"email": "a@b.co", "attributes": {"notes": "\\ud800"}}',
        '{"email": "a@b.co", "attributes": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_json_postgresql_cannot_store_is_a_400_not_a_500(api, org, body):
    response = api.generic("POST", "/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    with tenant_context(org):
        assert not Lead.objects.exists()


def test_attributes_up_to_the_limits_are_kept(api, org):
    attributes = {f"k{n}": n for n in range(49)} | {"notes": "x" * 15_000}
    response = api.post("/api/v1/leads/", {"email": "big@b.co", "attributes": attributes}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["attributes"]["notes"] == "x" * 15_000


def test_bad_filters_are_400(api):
    for params in ({"status": "archived"}, {"source": "fax"}):
        response = api.get("/api/v1/leads/", params)
        assert response.status_code == 400 and response.json()["errors"][0]["attr"] in params


def test_members_work_leads_and_others_are_kept_out(org, other_org, client_for, member_of, api):
    from apps.accounts.services import api_key_create

    created = api.post("/api/v1/leads/", {"email": "gi@example.com"}, format="json").json()
    member = client_for(org, user=member_of(org, "member"))
    assert member.get("/api/v1/leads/").json()["count"] == 1
    assert member.patch(f"/api/v1/leads/{created['id']}/", {"status": "contacted"}, format="json").status_code == 200
    _, other_key = api_key_create(organization=other_org, name="other")
    assert client_for(org, api_key=other_key).get("/api/v1/leads/").status_code == 401
    outsider = client_for(org, user=member_of(other_org, "owner", email="boss@globex.test"))
    assert outsider.get("/api/v1/leads/").status_code == 403
    assert outsider.post("/api/v1/leads/", {"email": "x@example.com"}, format="json").status_code == 403
    other = client_for(other_org, api_key=other_key)
    assert other.get("/api/v1/leads/").json()["count"] == 0
    assert other.get(f"/api/v1/leads/{created['id']}/").status_code == 404
    assert other.get("/api/v1/events/").json()["count"] == 0
    with tenant_context(other_org):
        assert not Lead.objects.exists() and not Event.objects.exists()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_list_query_count_does_not_grow_with_rows(api, org, member_of):
    def add(n: int, start: int) -> None:
        with tenant_context(org):
            for i in range(start, start + n):
                lead_capture(email=f"lead{i}@example.com", owner=owner, attributes={"areas": ["X"]})

    owner = member_of(org, "member")
    add(4, 0)
    api.get("/api/v1/leads/")
    few = _queries(api, "/api/v1/leads/?page_size=50")
    add(4, 100)
    assert _queries(api, "/api/v1/leads/?page_size=50") == few
    assert api.get("/api/v1/leads/").json()["count"] == 8
