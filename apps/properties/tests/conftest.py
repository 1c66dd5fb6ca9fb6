"""Fixtures of the listings tests: the organization's schema entered, and small catalogs."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import tenant_context

from apps.properties.services import SAMPLE_CATALOG

# Ten listings that differ in what a visitor would say about them (offline relevance tests).
SMALL_CATALOG: list[dict] = [
    {
        "external_id": "pool-house", "title": "Family home with a sparkling pool", "property_type": "house",
        "listing_type": "sale", "price": 450000, "bedrooms": 3, "bathrooms": 2, "city": "Austin",
        "neighborhood": "Zilker", "features": ["pool", "garden"],
        "description": "Three bedrooms, a big backyard and a heated pool, a short walk from Zilker Park.",
    },
    {
        "external_id": "fireplace-house", "title": "Craftsman house with fireplace", "property_type": "house",
        "listing_type": "sale", "price": 650000, "bedrooms": 4, "bathrooms": 3, "city": "Austin",
        "neighborhood": "Hyde Park", "features": ["fireplace", "garage"],
        "description": "Wood-burning fireplace in the living room and a two-car garage off the alley.",
    },
    {
        "external_id": "downtown-loft", "title": "Downtown loft with rooftop gym", "property_type": "apartment",
        "listing_type": "rent", "price": 1800, "bedrooms": 1, "bathrooms": 1, "city": "Austin",
        "neighborhood": "Downtown", "features": ["gym", "balcony"],
        "description": "Floor-to-ceiling windows, concrete floors and a residents' gym on the roof.",
    },
    {
        "external_id": "ocean-condo", "title": "Oceanfront condo", "property_type": "condo", "listing_type": "sale",
        "price": 520000, "bedrooms": 2, "bathrooms": 2, "city": "Miami", "neighborhood": "South Beach",
        "features": ["sea view", "pool"],
        "description": "Wake up to the sound of the waves: ocean views from every room, steps from the beach.",
    },
    {
        "external_id": "brickell-studio", "title": "Compact studio in Brickell", "property_type": "apartment",
        "listing_type": "rent", "price": 1500, "bedrooms": 0, "bathrooms": 1, "city": "Miami",
        "neighborhood": "Brickell", "features": ["air conditioning"],
        "description": "Efficient studio two blocks from the Metrorail station, walk to offices and cafes.",
    },
    {
        "external_id": "mountain-townhouse", "title": "End-unit townhouse", "property_type": "townhouse",
        "listing_type": "sale", "price": 600000, "bedrooms": 3, "bathrooms": 2.5, "city": "Denver",
        "neighborhood": "Highlands", "features": ["mountain view", "terrace"],
        "description": "Mountain views from a private rooftop terrace; attached garage and quiet street.",
    },
    {
        "external_id": "buildable-lot", "title": "Two-acre buildable lot", "property_type": "land",
        "listing_type": "sale", "price": 200000, "city": "Denver", "neighborhood": "Golden",
        "description": "Level parcel with water and power at the street, ready for your custom home.",
    },
    {
        "external_id": "corner-retail", "title": "Corner retail space", "property_type": "commercial",
        "listing_type": "rent", "price": 8000, "city": "Seattle", "neighborhood": "Capitol Hill",
        "description": "Ground-floor shop on a busy corner with large display windows and high foot traffic.",
    },
    {
        "external_id": "dog-cottage", "title": "Cottage with fenced garden", "property_type": "house",
        "listing_type": "rent", "price": 3200, "bedrooms": 2, "bathrooms": 1, "city": "Seattle",
        "neighborhood": "Ballard", "features": ["pet friendly", "garden"],
        "description": "Dogs welcome: a fenced yard, a dog door and a park around the corner.",
    },
    {
        "external_id": "skyline-penthouse", "title": "Penthouse with skyline views", "property_type": "apartment",
        "listing_type": "sale", "price": 700000, "bedrooms": 2, "bathrooms": 2, "city": "Seattle",
        "neighborhood": "Belltown", "features": ["city view", "balcony", "elevator"],
        "description": "Top-floor residence with a wraparound balcony and skyline views of downtown.",
    },
]  # fmt: skip


@pytest.fixture
def in_org(org):
    """The test runs inside the organization's schema (as a request or an actor would)."""
    with tenant_context(org):
        yield org


def load(rows: list[dict], *, embed: bool = True) -> dict[str, int]:
    """Import rows into the current schema and embed them now; returns {external_id: id}."""
    from apps.properties.models import Property
    from apps.properties.services import property_embeddings_sync, property_import

    result = property_import(rows=rows)
    assert result.errors == []
    if embed:
        property_embeddings_sync(property_ids=result.property_ids)
    return dict(Property.objects.filter(pk__in=result.property_ids).values_list("external_id", "pk"))


@pytest.fixture
def small_catalog(in_org) -> dict[str, int]:
    return load(SMALL_CATALOG)


@pytest.fixture
def sample_rows() -> list[dict]:
    return json.loads(SAMPLE_CATALOG.read_text())
