"""Lead details a visitor states in chat: contact, budget, areas, type, bedrooms, timeline (deterministic)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.properties.query_parser import parse_query

EMAIL_MAX_LENGTH = 254  # the column's (Lead.email, User.email)
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# "my name is Ana Lopez", "I'm Ana", "this is Ana", "call me Ana": capitalized words only, so
# "I'm looking for…" is not a name.
NAME_RE = re.compile(
    r"\b(?:my name is|my name's|i am|i'm|im|this is|call me|name:)\s+"
    r"(?P<name>[A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-]+){0,2})",
    re.IGNORECASE,
)
NOT_NAMES = {"Looking", "Interested", "Searching", "Moving", "Buying", "Renting", "From", "In", "Not", "Just", "A"}
TIMELINE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(asap|as soon as possible|immediately|right away|urgent(ly)?)\b", re.I), "asap"),
    (re.compile(r"\b(this|next)\s+(week|month|year|spring|summer|fall|autumn|winter)\b", re.I), "{0}"),
    (
        re.compile(
            r"\b(?:in|within)\s+(?:the\s+next\s+)?(\d{1,2}|a|one|two|three|six)\s+(weeks?|months?|years?)\b", re.I
        ),
        "{0}",
    ),
    (re.compile(r"\bjust (browsing|looking)\b", re.I), "browsing"),
]


@dataclass
class LeadDetails:
    name: str = ""
    email: str = ""
    phone: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def has_contact(self) -> bool:
        return bool(self.email or self.phone)

    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone or self.attributes)


def _phone(text: str) -> tuple[str, str]:
    """The first valid phone number (E.164), and the text without any phone-looking number."""
    region = getattr(settings, "PHONE_DEFAULT_REGION", "US")
    found = ""
    rest = text
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE):
        if not found and phonenumbers.is_valid_number(match.number):
            found = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        # Its digits are not a budget or a bedroom count.
        rest = rest.replace(match.raw_string, " ")
    return found, rest


def _name(text: str) -> str:
    for match in NAME_RE.finditer(text):
        words = [word for word in match.group("name").split() if word[0].isupper()]
        if words and words[0].capitalize() not in NOT_NAMES:
            return " ".join(words)
    return ""


def _timeline(text: str) -> str:
    for pattern, template in TIMELINE_PATTERNS:
        match = pattern.search(text)
        if match:
            return template.format(match.group(0).lower()) if "{0}" in template else template
    return ""


def _email(text: str) -> str:
    """The first address the lead pipeline accepts. EMAIL_RE is loose: "john..smith@gmail.com" or one
    longer than the column matches it, and failed the whole turn in lead_capture. A typo is no address."""
    for found in EMAIL_RE.finditer(text):
        email = found.group(0).lower()
        try:
            validate_email(email)
        except ValidationError:
            continue
        if len(email) <= EMAIL_MAX_LENGTH:
            return email
    return ""


def lead_details_extract(text: str, *, known_cities: Iterable[str] | None = None) -> LeadDetails:
    """Everything a single visitor message says about the visitor; empty fields when it says nothing."""
    details = LeadDetails()
    details.email = _email(text)
    # Digits inside an email address are not a phone number.
    details.phone, rest = _phone(EMAIL_RE.sub(" ", text))
    details.name = _name(text)
    parsed = parse_query(rest, known_cities=known_cities)
    attributes: dict[str, Any] = {}
    if parsed.max_price is not None:
        attributes["budget_max"] = int(parsed.max_price)
    if parsed.min_price is not None:
        attributes["budget_min"] = int(parsed.min_price)
    if parsed.city:
        attributes["areas"] = [parsed.city]
    if parsed.property_type:
        attributes["property_type"] = parsed.property_type
    if parsed.min_bedrooms is not None:
        attributes["bedrooms"] = parsed.min_bedrooms
    if parsed.listing_type:
        attributes["intent"] = "rent" if parsed.listing_type == "rent" else "buy"
    timeline = _timeline(text)
    if timeline:
        attributes["timeline"] = timeline
    details.attributes = attributes
    return details
