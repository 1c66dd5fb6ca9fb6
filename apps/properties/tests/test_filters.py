"""Every listing filter is obeyed exactly (alone and combined), by the selector, the list API and the search."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.properties.selectors import property_list, property_search
from apps.properties.tests.conftest import load

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(in_org, sample_rows) -> list[dict]:
    """A third of the sample catalog (all cities, types and price bands) plus listings without bedrooms."""
    chosen = [dict(row) for row in sample_rows[::3]]
    chosen += [
        {"external_id": "no-beds-1", "title": "Lot on the edge of town", "property_type": "land",
         "listing_type": "sale", "price": 95000, "city": "Austin", "is_active": True},
        {"external_id": "no-beds-2", "title": "Office floor downtown", "property_type": "commercial",
         "listing_type": "rent", "price": 5400, "city": "austin", "is_active": False},
    ]  # fmt: skip
    load(chosen, embed=False)
    return chosen


@pytest.fixture
def embedded_rows(rows) -> list[dict]:
    from apps.properties.models import Property
    from apps.properties.services import property_embeddings_sync

    property_embeddings_sync(property_ids=Property.objects.values_list("pk", flat=True))
    return rows


def expected(rows: list[dict], **filters) -> set[str]:
    """The external_ids the filters must return, computed from the rows in Python."""

    def keep(row: dict) -> bool:
        if "city" in filters and row["city"].lower() != filters["city"].lower():
            return False
        for key in ("property_type", "listing_type"):
            if key in filters and row[key] != filters[key]:
                return False
        if "min_price" in filters and Decimal(str(row["price"])) < Decimal(str(filters["min_price"])):
            return False
        if "max_price" in filters and Decimal(str(row["price"])) > Decimal(str(filters["max_price"])):
            return False
        if "min_bedrooms" in filters and (row.get("bedrooms") is None or row["bedrooms"] < filters["min_bedrooms"]):
            return False
        return not ("is_active" in filters and row.get("is_active", True) != filters["is_active"])

    return {row["external_id"] for row in rows if keep(row)}


CASES = [
    {"city": "Austin"},
    {"city": "  aUsTiN "},
    {"city": "San Diego"},
    {"city": "Atlantis"},
    {"property_type": "house"},
    {"property_type": "land"},
    {"listing_type": "rent"},
    {"listing_type": "sale"},
    {"min_price": 500000},
    {"max_price": 2000},
    {"min_price": 1500, "max_price": 3000},
    {"min_bedrooms": 3},
    {"min_bedrooms": 0},
    {"is_active": True},
    {"is_active": False},
    {"city": "Miami", "listing_type": "rent", "max_price": 3000},
    {"city": "Denver", "property_type": "house", "min_bedrooms": 3, "listing_type": "sale"},
    {"property_type": "condo", "min_price": 300000, "max_price": 700000, "is_active": True},
    {"city": "Seattle", "property_type": "apartment", "listing_type": "rent", "min_bedrooms": 2, "max_price": 4000},
]


@pytest.mark.parametrize("filters", CASES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_selector_obeys_each_filter_exactly(rows, filters):
    want = expected(rows, **{k: (v.strip() if isinstance(v, str) else v) for k, v in filters.items()})
    got = set(property_list(filters=filters).values_list("external_id", flat=True))
    assert got == want


@pytest.mark.parametrize("filters", CASES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_list_api_obeys_each_filter_exactly(rows, org, api_key, client_for, filters):
    params = {key: str(value).lower() if isinstance(value, bool) else value for key, value in filters.items()}
    response = client_for(org, api_key=api_key).get("/api/v1/properties/", {**params, "page_size": 100})
    assert response.status_code == 200
    body = response.json()
    want = expected(rows, **{k: (v.strip() if isinstance(v, str) else v) for k, v in filters.items()})
    assert body["count"] == len(want)
    assert {item["external_id"] for item in body["results"]} == want


@pytest.mark.parametrize("filters", CASES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_the_search_sql_form_of_each_filter_selects_the_same_rows(rows, filters):
    # The search's statements carry the filters as SQL (filters_sql); the FilterSet is the definition.
    from apps.core.sql import bound_rows
    from apps.properties.filters import filters_clean, filters_sql

    condition, params = filters_sql(filters_clean(filters))
    got = {
        external_id
        for (external_id,) in bound_rows(f"SELECT external_id FROM properties_property p WHERE {condition}", params)
    }
    assert got == set(property_list(filters=filters).values_list("external_id", flat=True))


def test_q_is_not_a_search_filter():
    from apps.properties.filters import filters_sql

    with pytest.raises(ValueError, match="q is not a search filter"):
        filters_sql({"q": "garden"})


def test_every_listing_is_there_without_filters(rows):
    assert property_list().count() == len(rows)


def test_q_matches_text_fields(rows):
    hits = set(property_list(filters={"q": "crestview"}).values_list("external_id", flat=True))
    want = {
        row["external_id"]
        for row in rows
        if "crestview" in " ".join([row["title"], row.get("description", ""), row.get("neighborhood", "")]).lower()
    }
    assert want and hits == want
    assert set(property_list(filters={"q": "no-beds-1"}).values_list("external_id", flat=True)) == {"no-beds-1"}


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"property_type": "castle"}, "property_type"),
        ({"listing_type": "lease"}, "listing_type"),
        ({"min_price": "cheap"}, "min_price"),
        ({"max_price": "-5"}, "max_price"),
        ({"min_bedrooms": "2.5"}, "min_bedrooms"),
        ({"is_active": "maybe"}, "is_active"),
    ],
)
def test_bad_filter_values_are_400_naming_the_filter(org, api_key, client_for, params, attr):
    response = client_for(org, api_key=api_key).get("/api/v1/properties/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


SEARCH_CASES = [
    {"city": "Austin", "listing_type": "rent"},
    {"property_type": "house", "min_bedrooms": 3},
    {"max_price": 400000, "listing_type": "sale"},
    {"city": "Miami", "min_price": 2000},
    {"is_active": False},
]


@pytest.mark.parametrize("catalog", ["agency-sized", "large"])
@pytest.mark.parametrize("filters", SEARCH_CASES, ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()))
def test_search_obeys_given_filters_and_fills_the_limit(embedded_rows, filters, catalog, monkeypatch):
    # Both ways a search runs: one statement (exact vectors), or the HNSW index first (large catalogs).
    from apps.properties import selectors

    if catalog == "large":
        monkeypatch.setattr(selectors, "EXACT_SCAN_MAX_ROWS", 0)
    rows = embedded_rows
    allowed = expected(rows, **{"is_active": True, **filters})
    hits = property_search(query="bright place with a garden and parking", filters=filters, limit=10)
    got = [hit.property.external_id for hit in hits]
    assert set(got) <= allowed
    assert len(got) == min(10, len(allowed))  # `limit` rows whenever that many match
    assert len(set(got)) == len(got)


def test_search_never_shows_inactive_listings_unless_asked(embedded_rows):
    hits = property_search(query="office floor downtown", filters={"city": "austin"}, limit=50)
    assert "no-beds-2" not in {hit.property.external_id for hit in hits}
    assert all(hit.property.is_active for hit in hits)


def test_question_filters_are_hard_filters(embedded_rows):
    rows = embedded_rows
    hits = property_search(query="3 bed house in Austin under $500k with a garden", limit=20)
    allowed = expected(rows, city="Austin", property_type="house", min_bedrooms=3, max_price=500000, is_active=True)
    assert hits and {hit.property.external_id for hit in hits} <= allowed
    assert len(hits) == min(20, len(allowed))


def test_given_filters_win_over_the_question(embedded_rows):
    rows = embedded_rows
    hits = property_search(query="apartment for rent in Denver", filters={"city": "Miami"}, limit=20)
    allowed = expected(rows, city="Miami", property_type="apartment", listing_type="rent", is_active=True)
    assert hits and {hit.property.external_id for hit in hits} <= allowed


def test_search_fills_the_limit_with_listings_not_embedded_yet(rows):
    # Nothing is embedded (the job has not run): text rankers and the newest-first fill still answer.
    hits = property_search(query="zzz qqq", filters={"city": "Denver"}, limit=7)
    assert len(hits) == 7
    assert {hit.property.city for hit in hits} == {"Denver"}
    assert [hit.score for hit in hits] == [0.0] * 7
