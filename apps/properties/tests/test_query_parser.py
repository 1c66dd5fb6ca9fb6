"""Tests for the deterministic search-query parser (pure Python, no database)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from apps.properties.query_parser import (
    FEATURE_VOCABULARY,
    PROPERTY_TYPES,
    ParsedQuery,
    parse_query,
)

CATALOG = Path(__file__).resolve().parents[1] / "data" / "sample_catalog.json"
CITIES = ["Austin", "Denver", "Miami", "Seattle", "Chicago", "San Diego", "San Antonio", "New York"]
D = Decimal

# (query, expected fields, known_cities). Only the listed fields are checked; "text_has" /
# "text_lacks" check words in the leftover text.
CASES: list[tuple[str, dict[str, Any], list[str] | None]] = [
    (
        "3 bed house in Austin under $500k with a pool",
        {
            "city": "Austin",
            "min_bedrooms": 3,
            "property_type": "house",
            "max_price": D(500000),
            "features": ("pool",),
            "text_has": ["pool"],
            "text_lacks": ["bed", "house", "Austin", "500k"],
        },
        None,
    ),
    (
        "3 bed house in Austin under $500k with a pool",
        {"city": "Austin", "min_bedrooms": 3, "max_price": D(500000), "text": "with a pool"},
        CITIES,
    ),
    ("house under 500k", {"max_price": D(500000), "property_type": "house"}, None),
    ("condo up to $500K", {"max_price": D(500000), "property_type": "condo"}, None),
    ("villa below $1.2m", {"max_price": D(1200000), "property_type": "house"}, None),
    ("home less than 1.5 million", {"max_price": D(1500000), "property_type": "house"}, None),
    ("max 450000", {"max_price": D(450000), "min_price": None}, None),
    ("house for $350,000", {"max_price": D(350000), "listing_type": None}, None),
    (
        "2 bedroom apartment 2,500/month",
        {"max_price": D(2500), "listing_type": "rent", "min_bedrooms": 2},
        None,
    ),
    ("flat €2500 per month", {"max_price": D(2500), "listing_type": "rent"}, None),
    ("loft under $1,800/mo", {"max_price": D(1800), "listing_type": "rent"}, None),
    (
        "between 300k and 450k",
        {"min_price": D(300000), "max_price": D(450000)},
        None,
    ),
    ("townhouse 300k-450k", {"min_price": D(300000), "max_price": D(450000)}, None),
    ("condo 300-450k", {"min_price": D(300000), "max_price": D(450000)}, None),
    ("from 200k to 300k", {"min_price": D(200000), "max_price": D(300000)}, None),
    ("over 1m", {"min_price": D(1000000), "max_price": None}, None),
    ("at least $750k", {"min_price": D(750000)}, None),
    ("more than 600k", {"min_price": D(600000)}, None),
    ("house above 400k", {"min_price": D(400000)}, None),
    ("min 250k", {"min_price": D(250000)}, None),
    ("from $900k", {"min_price": D(900000), "max_price": None}, None),
    ("around 500k", {"min_price": D(450000), "max_price": D(550000)}, None),
    (
        "about $2,000 a month",
        {"min_price": D(1800), "max_price": D(2200), "listing_type": "rent"},
        None,
    ),
    ("600k+ house", {"min_price": D(600000), "property_type": "house"}, None),
    ("3br condo", {"min_bedrooms": 3, "property_type": "condo"}, None),
    ("3-bedroom townhome", {"min_bedrooms": 3, "property_type": "townhouse"}, None),
    ("three bedrooms", {"min_bedrooms": 3}, None),
    ("at least 2 bedrooms", {"min_bedrooms": 2, "min_price": None}, None),
    ("2+ beds near the park", {"min_bedrooms": 2, "text_has": ["park"]}, None),
    (
        "4 bed 3 bath house",
        {"min_bedrooms": 4, "property_type": "house", "text_has": ["3 bath"]},
        None,
    ),
    ("2 bath condo", {"min_bedrooms": None, "property_type": "condo"}, None),
    (
        "studio in Chicago",
        {"min_bedrooms": 0, "property_type": "apartment", "city": "Chicago"},
        None,
    ),
    (
        "cozy studio apartment for rent",
        {"min_bedrooms": 0, "listing_type": "rent", "text": "cozy"},
        None,
    ),
    ("flats in Seattle", {"property_type": "apartment", "city": "Seattle"}, None),
    ("apt with gym", {"property_type": "apartment", "features": ("gym",)}, None),
    ("condominiums", {"property_type": "condo"}, None),
    ("row house", {"property_type": "townhouse"}, None),
    ("bungalows", {"property_type": "house"}, None),
    ("vacant lot", {"property_type": "land"}, None),
    ("building plot", {"property_type": "land"}, None),
    ("office space for lease", {"property_type": "commercial", "listing_type": "rent"}, None),
    ("warehouses", {"property_type": "commercial"}, None),
    ("retail shop", {"property_type": "commercial"}, None),
    ("house or condo", {"property_type": None, "text_has": ["house", "condo"]}, None),
    ("apartment to rent", {"listing_type": "rent", "property_type": "apartment"}, None),
    ("rental in Denver", {"listing_type": "rent", "city": "Denver"}, None),
    ("flat to let", {"listing_type": "rent"}, None),
    ("buy a condo", {"listing_type": "sale", "property_type": "condo"}, None),
    ("homes for sale", {"listing_type": "sale", "property_type": "house"}, None),
    ("purchase a townhouse", {"listing_type": "sale", "property_type": "townhouse"}, None),
    ("rent to own house", {"listing_type": None, "property_type": "house"}, None),
    ("condo in san antonio", {"city": "San Antonio", "text": ""}, CITIES),
    ("loft in NEW YORK", {"city": "New York"}, CITIES),
    ("2 bed near Seattle", {"city": "Seattle", "min_bedrooms": 2}, None),
    ("house in Austin, TX", {"city": "Austin", "text": ""}, None),
    (
        "house in Travis Heights",
        {"city": None, "text_has": ["Travis Heights"]},
        CITIES,
    ),
    ("house in Travis Heights", {"city": "Travis Heights"}, None),
    (
        "Austin or Denver condo",
        {"city": None, "property_type": "condo", "text_has": ["Austin", "Denver"]},
        CITIES,
    ),
    (
        "apartment with balcony, elevator and sea views",
        {"features": ("balcony", "elevator", "sea view"), "text_has": ["balcony", "elevator"]},
        None,
    ),
    ("house with home office", {"property_type": "house", "features": ("home office",)}, None),
    ("house without a pool", {"features": ()}, None),
    ("unfurnished flat", {"features": ()}, None),
    ("pet-friendly apartment with a/c", {"features": ("pet friendly", "air conditioning")}, None),
    ("1500 sqft house", {"max_price": None, "min_price": None, "text_has": ["1500 sqft"]}, None),
    ("house built in 1990", {"max_price": None}, None),
    ("lots of light", {"property_type": None, "text": "lots of light"}, None),
    ("price 300k", {"max_price": D(300000), "text": ""}, None),
]


def _ids() -> list[str]:
    return [f"{i:02d}-{query[:40]}" for i, (query, _, _) in enumerate(CASES)]


@pytest.mark.parametrize(("query", "expected", "known"), CASES, ids=_ids())
def test_phrasings(query: str, expected: dict[str, Any], known: list[str] | None) -> None:
    parsed = parse_query(query, known_cities=known)
    for field, value in expected.items():
        if field == "text_has":
            for word in value:
                assert word.lower() in parsed.text.lower(), (field, word, parsed)
        elif field == "text_lacks":
            for word in value:
                assert word.lower() not in parsed.text.lower(), (field, word, parsed)
        else:
            assert getattr(parsed, field) == value, (field, parsed)


def test_case_table_is_large_enough() -> None:
    assert len(CASES) >= 35


def test_filters_only_contains_recognized_hard_filters() -> None:
    parsed = parse_query("2 bed condo for rent in Miami under 3000")
    assert parsed.filters() == {
        "city": "Miami",
        "property_type": "condo",
        "listing_type": "rent",
        "max_price": D(3000),
        "min_bedrooms": 2,
    }
    assert parse_query("something cozy").filters() == {}


def test_known_city_returns_canonical_spelling_ignoring_accents_and_case() -> None:
    parsed = parse_query("piso en MALAGA centro", known_cities=["Málaga", "Sevilla"])
    assert parsed.city == "Málaga"
    assert parse_query("loft in São Paulo", known_cities=["Sao Paulo"]).city == "Sao Paulo"


def test_longest_known_city_wins() -> None:
    parsed = parse_query("apartment in New York", known_cities=["York", "New York"])
    assert parsed.city == "New York"


@pytest.mark.parametrize(
    "query",
    ["", "   ", "🏠🔥🚀", "$$$ k m 1e9 --- + / ~", "under", "between and", "in", "a" * 50_000,
     "3 bed " * 5_000, "\x00\n\t weird \u200b spaces", "١٢٣ bedrooms", "₹ 50 lakh"],
)  # fmt: skip
def test_never_raises(query: str) -> None:
    parsed = parse_query(query, known_cities=CITIES)
    assert isinstance(parsed, ParsedQuery)
    assert parsed.property_type in (None, *PROPERTY_TYPES)


def test_non_string_input_degrades_to_empty_query() -> None:
    assert parse_query(None) == ParsedQuery()  # type: ignore[arg-type]
    assert parse_query("x", known_cities=[None, 3, ""]).text == "x"  # type: ignore[list-item]


def test_deterministic() -> None:
    query = "Bright 2-bed condo in Austin between $300k and 450k with balcony, gym"
    assert {parse_query(query, known_cities=CITIES) for _ in range(5)} == {parse_query(query, known_cities=CITIES)}


def test_min_above_max_is_swapped() -> None:
    parsed = parse_query("over 500k under 300k")
    assert (parsed.min_price, parsed.max_price) == (D(300000), D(500000))


def test_text_is_whitespace_normalized() -> None:
    parsed = parse_query("  quiet    street ,  3 bed   house  ")
    assert parsed.text == "quiet street"


def test_catalog_features_use_the_parser_vocabulary() -> None:
    listings = json.loads(CATALOG.read_text(encoding="utf-8"))
    used = {feature for listing in listings for feature in listing["features"]}
    assert used <= set(FEATURE_VOCABULARY)


def test_catalog_shape() -> None:
    listings = json.loads(CATALOG.read_text(encoding="utf-8"))
    keys = {
        "external_id", "title", "description", "property_type", "listing_type", "price",
        "currency", "bedrooms", "bathrooms", "area_sqm", "address", "neighborhood", "city",
        "postal_code", "latitude", "longitude", "features", "images", "url", "is_active",
    }  # fmt: skip
    assert len(listings) >= 240
    assert CATALOG.stat().st_size < 600_000
    assert all(set(listing) == keys for listing in listings)
    assert len({listing["city"] for listing in listings}) >= 6
    assert {listing["property_type"] for listing in listings} == set(PROPERTY_TYPES)
    assert {listing["listing_type"] for listing in listings} == {"sale", "rent"}
    assert len({listing["external_id"] for listing in listings}) == len(listings)
    for listing in listings:
        low, high = (900, 9000) if listing["listing_type"] == "rent" else (90_000, 3_500_000)
        assert low <= listing["price"] <= high
        assert 1 <= len(listing["images"]) <= 3
        assert all(url.startswith("https://images.example.com/") for url in listing["images"])
        assert listing["url"] == f"https://demo.example.com/listings/{listing['external_id']}"


def test_catalog_titles_parse_to_their_own_city() -> None:
    listings = json.loads(CATALOG.read_text(encoding="utf-8"))
    cities = sorted({listing["city"] for listing in listings})
    for listing in listings:
        parsed = parse_query(f"{listing['title']} in {listing['city']}", known_cities=cities)
        assert parsed.city == listing["city"], listing["title"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,200,000", ("1200000", "USD")),
        ("1.2m", ("1200000", "")),
        ("$450k", ("450000", "USD")),
        ("2,500/month", ("2500", "")),
        ("950000 EUR", ("950000", "EUR")),
        ("€ 950.000,00", ("950000", "EUR")),
        ("£1.5 million", ("1500000", "GBP")),
        ("1,234.56", ("1234.56", "")),
        ("call us", None),
        ("$400k-$500k", None),
        ("", None),
    ],
)
def test_price_cells(text, expected):
    from decimal import Decimal

    from apps.properties.query_parser import price_parse

    parsed = price_parse(text)
    assert parsed == (None if expected is None else (Decimal(expected[0]), expected[1]))
