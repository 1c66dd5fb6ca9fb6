"""Listings CRUD over the API: contract shape, validation, roles, plan limit, isolation and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.billing.models import Plan, Subscription
from apps.properties.models import Property
from apps.properties.tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

FIELDS = {
    "id", "external_id", "title", "description", "property_type", "listing_type", "price", "currency", "bedrooms",
    "bathrooms", "area_sqm", "address", "neighborhood", "city", "postal_code", "latitude", "longitude", "features",
    "images", "url", "is_active", "created_at", "updated_at",
}  # fmt: skip

NEW_LISTING = {
    "external_id": "crm-1",
    "title": "Bright 2-bed condo",
    "property_type": "condo",
    "listing_type": "sale",
    "price": 389000,
    "city": "Austin",
    "bedrooms": 2,
    "bathrooms": 1.5,
    "latitude": 30.2672191,  # seven places: rounded to the column's six, not refused
    "features": ["balcony", " gym ", "balcony"],
    "images": ["https://img.example.com/1.jpg"],
}


def limit_listings(organization, limit: int) -> None:
    plan = Plan.objects.create(
        code=f"tiny-{limit}", name="Tiny", monthly_price_cents=0, entitlements={"listings": limit}
    )
    Subscription.objects.filter(organization=organization).update(plan=plan)


@pytest.fixture
def api(org, api_key, client_for):
    return client_for(org, api_key=api_key)


def test_create_returns_the_contract_shape(api, org):
    response = api.post("/api/v1/properties/", NEW_LISTING, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == FIELDS
    assert body["price"] == 389000 and body["bathrooms"] == 1.5 and body["latitude"] == 30.267219
    assert body["features"] == ["balcony", "gym"] and body["currency"] == "USD" and body["is_active"] is True
    with tenant_context(org):
        listing = Property.objects.get(pk=body["id"])
        assert "austin" in listing.search_text and "condo" in listing.search_text


@pytest.mark.parametrize("missing", ["title", "property_type", "listing_type", "price", "city"])
def test_required_fields(api, missing):
    payload = {key: value for key, value in NEW_LISTING.items() if key != missing}
    response = api.post("/api/v1/properties/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == missing


@pytest.mark.parametrize(
    ("change", "attr"),
    [
        ({"property_type": "castle"}, "property_type"),
        ({"price": -1}, "price"),
        ({"currency": "dollars"}, "currency"),
        ({"images": ["not a url"]}, "images.0"),
        ({"latitude": 123}, "latitude"),
        ({"bedrooms": -2}, "bedrooms"),
        # Too big to round to cents: was decimal.InvalidOperation, a 500.
        ({"price": "1e400"}, "price"),
        ({"area_sqm": 1e300}, "area_sqm"),
    ],
)
def test_invalid_values_name_the_field(api, change, attr):
    response = api.post("/api/v1/properties/", {**NEW_LISTING, **change}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error" and body["errors"][0]["attr"] == attr


def test_duplicate_external_id_is_a_conflict(api):
    assert api.post("/api/v1/properties/", NEW_LISTING, format="json").status_code == 201
    response = api.post("/api/v1/properties/", NEW_LISTING, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0] == {
        "code": "conflict", "detail": "A listing with external_id 'crm-1' exists.", "attr": "external_id"
    }  # fmt: skip


def test_retrieve_update_delete(api, org):
    created = api.post("/api/v1/properties/", NEW_LISTING, format="json").json()
    url = f"/api/v1/properties/{created['id']}/"
    assert api.get(url).json()["title"] == "Bright 2-bed condo"
    patched = api.patch(url, {"price": 375000, "is_active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["price"] == 375000 and patched.json()["is_active"] is False
    put = api.put(url, {**NEW_LISTING, "title": "Renamed"}, format="json")
    assert put.status_code == 200 and put.json()["title"] == "Renamed"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    with tenant_context(org):
        assert not Property.objects.exists()


def test_list_paginates_newest_first(api, org):
    with tenant_context(org):
        first, second = PropertyFactory(), PropertyFactory()
    body = api.get("/api/v1/properties/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [item["id"] for item in body["results"]] == [second.pk, first.pk]


def test_plan_limit_on_create(api, org):
    limit_listings(org, 1)
    assert api.post("/api/v1/properties/", NEW_LISTING, format="json").status_code == 201
    response = api.post("/api/v1/properties/", {**NEW_LISTING, "external_id": "crm-2"}, format="json")
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "plan_limit" and error["attr"] == "listings"
    with tenant_context(org):
        assert Property.objects.count() == 1


def test_members_read_admins_write(org, client_for, member_of):
    member = client_for(org, user=member_of(org, "member"))
    admin = client_for(org, user=member_of(org, "admin"))
    assert member.get("/api/v1/properties/").status_code == 200
    assert member.post("/api/v1/properties/", NEW_LISTING, format="json").status_code == 403
    assert admin.post("/api/v1/properties/", NEW_LISTING, format="json").status_code == 201


def test_another_organization_sees_none_of_it(api, org, other_org, client_for, member_of):
    from apps.accounts.services import api_key_create

    created = api.post("/api/v1/properties/", NEW_LISTING, format="json").json()
    _, other_key = api_key_create(organization=other_org, name="other")
    # Another organization's key on this host: 401, never data.
    assert client_for(org, api_key=other_key).get("/api/v1/properties/").status_code == 401
    # Another organization's member on this host: 403.
    outsider = client_for(org, user=member_of(other_org, "admin", email="boss@globex.test"))
    assert outsider.get("/api/v1/properties/").status_code == 403
    assert outsider.get("/api/v1/properties/search/", {"q": "condo"}).status_code == 403
    # On its own host the other organization has no listings, not even by id.
    other = client_for(other_org, api_key=other_key)
    assert other.get("/api/v1/properties/").json()["count"] == 0
    assert other.get(f"/api/v1/properties/{created['id']}/").status_code == 404
    assert other.get("/api/v1/properties/search/", {"q": "bright condo austin"}).json() == {"results": []}
    with tenant_context(other_org):
        assert Property.objects.count() == 0
    with tenant_context(org):
        assert Property.objects.count() == 1


def test_unauthenticated_is_401(org, client_for):
    assert client_for(org).get("/api/v1/properties/").status_code in (401, 403)
    assert client_for(org, api_key="nope.nope").get("/api/v1/properties/").status_code == 401


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_list_query_count_does_not_grow_with_rows(api, org):
    with tenant_context(org):
        PropertyFactory.create_batch(5)
    api.get("/api/v1/properties/")  # warm-up: the key's last_used_at is written once a minute
    url = "/api/v1/properties/?page_size=50"
    few = _queries(api, url)
    with tenant_context(org):
        PropertyFactory.create_batch(5)
    assert _queries(api, url) == few


def test_search_query_count_does_not_grow_with_results(api, org):
    with tenant_context(org):
        PropertyFactory.create_batch(15)
    api.get("/api/v1/properties/")
    api.get("/api/v1/properties/search/?q=warm")  # warm: the city list is cached after the first search
    few = _queries(api, "/api/v1/properties/search/?q=listing+number&limit=3")
    assert _queries(api, "/api/v1/properties/search/?q=listing+number&limit=12") == few
