"""Rule-based lead score (0–100): how reachable the person is and how concrete and near their plan is."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

# A lead at or over this score qualifies itself (new/contacted → qualified, recorded as by "score").
# E.g. email + phone + a budget + a timeline within six months = 15 + 15 + 15 + 15 = 60.
QUALIFICATION_THRESHOLD = 60

POINTS = {
    "email": 15,
    "phone": 15,
    "name": 5,
    "budget": 15,
    "timeline_soon": 20,  # within about three months
    "timeline_later": 15,  # within about six months
    "timeline_someday": 5,  # known, but further out
    "property_type": 5,
    "bedrooms": 5,
    "areas": 5,
    "financing_ready": 15,  # cash, pre-approved, mortgage in principle
    "financing_other": 5,  # stated, but not ready
}

_SOON = re.compile(
    r"\b(asap|now|immediate(ly)?|urgent(ly)?|right away|this (week|month)|next (week|month)|"
    r"few weeks|within (a|one) month)\b"
)
_NOT_SOON = re.compile(r"\b(just browsing|browsing|not sure|no rush|unsure|someday|eventually|unknown)\b")
_MONTHS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:-|to)?\s*(\d+)?\s*(day|week|month|year)s?")
_READY = re.compile(r"\b(cash|pre-?approved|approved|mortgage in principle|aip|proof of funds|pre-?qualified)\b")


def _present(value: Any) -> bool:
    return value not in (None, "", [], {})


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).replace(",", "").replace("$", "").strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() and number > 0 else None


def timeline_months(value: Any) -> float | None:
    """How many months away a stated timeline is ("asap" → 0, "3-6 months" → 6, "next year" → 12); None if unknown."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip().lower()
    if not text or _NOT_SOON.search(text):
        return None
    if _SOON.search(text):
        return 1.0
    if "next year" in text or "a year" in text:
        return 12.0
    match = _MONTHS.search(text)
    if match is None:
        return None
    amount = float(match.group(2) or match.group(1))  # a range counts by its far end
    unit = match.group(3)
    return {"day": amount / 30, "week": amount / 4.345, "month": amount, "year": amount * 12}[unit]


def lead_score(*, name: str, email: str, phone: str, attributes: Mapping[str, Any]) -> int:
    """Score a lead from its contact details, budget, timeline, intent and financing."""
    score = 0
    if email:
        score += POINTS["email"]
    if phone:
        score += POINTS["phone"]
    if name.strip():
        score += POINTS["name"]
    if (
        _number(attributes.get("budget_max"))
        or _number(attributes.get("budget_min"))
        or _number(attributes.get("budget"))
    ):
        score += POINTS["budget"]
    months = timeline_months(attributes.get("timeline"))
    if months is not None:
        if months <= 3:
            score += POINTS["timeline_soon"]
        elif months <= 6:
            score += POINTS["timeline_later"]
        else:
            score += POINTS["timeline_someday"]
    for key in ("property_type", "bedrooms", "areas"):
        if _present(attributes.get(key)):
            score += POINTS[key]
    financing = attributes.get("financing")
    if _present(financing):
        ready = financing is True or bool(_READY.search(str(financing).lower()))
        score += POINTS["financing_ready"] if ready else POINTS["financing_other"]
    return min(score, 100)
