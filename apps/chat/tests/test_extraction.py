"""Lead details from visitor messages, and the offline responder's answers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.chat.extraction import lead_details_extract
from apps.chat.llm import Listing, OfflineResponder, TurnContext
from apps.chat.services import cited_listings

CITIES = ["Austin", "Denver", "San Antonio"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my name is Ana Lopez and my email is Ana@Example.com", {"name": "Ana Lopez", "email": "ana@example.com"}),
        ("I'm Tom, call me at (512) 555-0199", {"name": "Tom", "phone": "+15125550199"}),
        (
            "I'm looking for a condo in Denver",
            {"name": "", "attributes": {"areas": ["Denver"], "property_type": "condo"}},
        ),
        (
            "budget around 400k, 2+ beds, asap",
            {"attributes": {"budget_min": 360000, "budget_max": 440000, "bedrooms": 2, "timeline": "asap"}},
        ),
        (
            "we want to rent in San Antonio next month",
            {"attributes": {"areas": ["San Antonio"], "intent": "rent", "timeline": "next month"}},
        ),
        ("reach me at tom+homes@mail.co or 210-555-0143", {"email": "tom+homes@mail.co", "phone": "+12105550143"}),
        ("hello there", {"name": "", "email": "", "phone": "", "attributes": {}}),
        # Typos the loose pattern matches but no mailbox has: no address (they failed the whole turn).
        ("reach me at john..smith@gmail.com", {"email": ""}),
        ("it's john.@gmail.com or jo@gmail..com", {"email": ""}),
        ("old: jo@-x.com, new: jo@example.com", {"email": "jo@example.com"}),
        ("a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".test", {"email": ""}),  # valid, longer than the column
    ],
)
def test_lead_details(text, expected):
    details = lead_details_extract(text, known_cities=CITIES)
    for field, value in expected.items():
        if field == "attributes":
            for key, wanted in value.items():
                assert details.attributes.get(key) == wanted, (key, details.attributes)
            if not value:
                assert details.attributes == {}
        else:
            assert getattr(details, field) == value


def _listing(number: int, title: str, **extra) -> Listing:
    base = dict(
        number=number,
        id=100 + number,
        title=title,
        property_type="house",
        listing_type="sale",
        price=Decimal("450000"),
        currency="USD",
        bedrooms=3,
        bathrooms=Decimal("2.0"),
        area_sqm=Decimal("140"),
        neighborhood="Hyde Park",
        city="Austin",
        features=("pool",),
        url=f"https://x.test/{number}",
        image=None,
        summary="",
    )
    return Listing(**{**base, **extra})


def _context(**overrides) -> TurnContext:
    values = dict(
        organization_name="Acme Realty",
        persona_name="Ava",
        persona_tone="friendly",
        persona_instructions="",
        greeting="Hi! What are you looking for?",
        user_text="3 bed house in Austin",
        history=[],
        listings=[],
        criteria={"city": "Austin", "min_bedrooms": 3, "property_type": "house"},
        has_contact=False,
    )
    values.update(overrides)
    return TurnContext(**values)


def test_offline_answer_presents_listings_and_asks_what_is_missing():
    listings = [_listing(1, "Craftsman with pool"), _listing(2, "Bungalow near the park")]
    text = OfflineResponder().compose(_context(listings=listings))
    assert "[1] Craftsman with pool — $450,000 · 3 bd · 2 ba · 140 m² — Hyde Park, Austin" in text
    assert "your budget" in text and "buy or rent" in text
    assert [listing.id for listing in cited_listings(text, listings)] == [101, 102]


def test_offline_answer_is_honest_when_nothing_matches():
    text = OfflineResponder().compose(_context(criteria={"city": "Austin", "max_price": 100000}))
    assert text.startswith("I'm sorry, we have no listings") and "higher budget" in text


def test_offline_answer_asks_for_contact_once_criteria_are_known():
    criteria = {"city": "Austin", "max_price": 500000, "listing_type": "sale"}
    text = OfflineResponder().compose(_context(listings=[_listing(1, "A")], criteria=criteria))
    assert "email or phone" in text
    text = OfflineResponder().compose(_context(listings=[_listing(1, "A")], criteria=criteria, has_contact=True))
    assert "email or phone" not in text


def test_greeting_gets_the_persona_greeting():
    assert (
        OfflineResponder().compose(_context(user_text="hello!", is_greeting_only=True))
        == "Hi! What are you looking for?"
    )


def test_citations_never_include_unlisted_markers():
    listings = [_listing(1, "A home")]
    assert [listing.id for listing in cited_listings("See [1] and [7]", listings)] == [101]
    assert cited_listings("Nothing relevant here", listings) == []
