"""Reads of email follow-up: campaigns, steps, due enrollments, message logs, suppressions, listings for a lead."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from apps.campaigns.models import (
    WELCOME_KEY,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignStep,
    Enrollment,
    EnrollmentStatus,
    MessageLog,
    MessageStatus,
    Suppression,
)
from apps.core.errors import ApplicationError

logger = logging.getLogger(__name__)

RECOMMENDED_LISTINGS = 3
PROPERTY_TYPES_BY_WORD = {"home": None, "flat": "apartment", "studio": "apartment", "villa": "house"}


def campaign_list() -> QuerySet[Campaign]:
    return Campaign.objects.all()


def campaign_count() -> int:
    """Campaigns the plan's `campaigns` limit counts: the platform's welcome sequence is free."""
    return Campaign.objects.exclude(key=WELCOME_KEY).count()


def campaign_step_list(*, campaign: Campaign) -> QuerySet[CampaignStep]:
    return CampaignStep.objects.filter(campaign=campaign)


def campaign_progress(*, campaign: Campaign) -> dict[str, Any]:
    enrollments = campaign.enrollments.aggregate(
        enrolled=Count("pk"),
        pending=Count("pk", filter=Q(status=EnrollmentStatus.ACTIVE)),
        completed=Count("pk", filter=Q(status=EnrollmentStatus.COMPLETED)),
        stopped=Count("pk", filter=Q(status=EnrollmentStatus.STOPPED)),
    )
    logs = campaign.message_logs.aggregate(
        sent=Count("pk", filter=~Q(status__in=[MessageStatus.QUEUED, MessageStatus.FAILED])),
        failed=Count("pk", filter=Q(status=MessageStatus.FAILED)),
    )
    return {**enrollments, **logs, "next_batch_at": campaign.next_batch_at}


def message_log_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[MessageLog]:
    """Message logs, newest first; filters `status`, `lead`, `campaign` (already validated)."""
    queryset = MessageLog.objects.all()
    filters = filters or {}
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("lead"):
        queryset = queryset.filter(lead_id=filters["lead"])
    if filters.get("campaign"):
        queryset = queryset.filter(campaign_id=filters["campaign"])
    return queryset


def suppression_exists(*, email: str) -> bool:
    return bool(email) and Suppression.objects.filter(email=email.strip().lower()).exists()


def enrollments_due(*, now: datetime, kind: str | None = None, lead_id: int | None = None) -> QuerySet[Enrollment]:
    """Active enrollments of active campaigns whose next mail is due, oldest due first (leads with an address)."""
    queryset = Enrollment.objects.filter(
        status=EnrollmentStatus.ACTIVE, next_send_at__lte=now, campaign__status=CampaignStatus.ACTIVE
    ).exclude(lead__email="")
    if kind is not None:
        queryset = queryset.filter(campaign__kind=kind)
    if lead_id is not None:
        queryset = queryset.filter(lead_id=lead_id)
    return queryset.order_by("next_send_at", "id")


def blasts_due(*, now: datetime) -> QuerySet[Campaign]:
    """Active blasts with enrolled leads waiting whose rate limit lets the next batch go."""
    waiting = Enrollment.objects.filter(
        campaign_id=OuterRef("pk"), status=EnrollmentStatus.ACTIVE, next_send_at__lte=now
    )
    return (
        Campaign.objects.filter(kind=CampaignKind.BLAST, status=CampaignStatus.ACTIVE)
        .filter(Q(next_batch_at__isnull=True) | Q(next_batch_at__lte=now))
        .filter(Exists(waiting))
        .order_by("id")
    )


def _lead_filters(attributes: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Listing filters from a lead's criteria, strictest first; each next one drops a criterion."""
    from apps.properties.models import PropertyType

    strict: dict[str, Any] = {}
    kind = str(attributes.get("property_type") or "").strip().lower()
    kind = PROPERTY_TYPES_BY_WORD.get(kind, kind)
    if kind in PropertyType.values:
        strict["property_type"] = kind
    intent = attributes.get("intent") or attributes.get("listing_type")
    if intent in ("rent", "buy", "sale"):
        strict["listing_type"] = "rent" if intent == "rent" else "sale"
    budget = attributes.get("budget_max")
    if isinstance(budget, int | float) and budget > 0:
        strict["max_price"] = budget
    bedrooms = attributes.get("bedrooms")
    if isinstance(bedrooms, int | float) and bedrooms > 0:
        strict["min_bedrooms"] = int(bedrooms)
    areas = attributes.get("areas")
    area = (areas[0] if isinstance(areas, list) and areas else areas) if areas else None
    if isinstance(area, str) and area.strip():
        strict["city"] = area.strip()
    # Relax the least essential criterion first: the area, then bedrooms, then the type; keep rent/sale and budget.
    attempts = [strict]
    for dropped in ("city", "min_bedrooms", "property_type", "max_price"):
        if dropped in attempts[-1]:
            attempts.append({key: value for key, value in attempts[-1].items() if key != dropped})
    return attempts


def listings_for_lead(
    *, attributes: Mapping[str, Any], exclude_ids: Collection[int] = (), limit: int = RECOMMENDED_LISTINGS
) -> list:
    """Active listings matching what the lead asked for (budget, type, bedrooms, area), relaxed until some match.

    Listings in `exclude_ids` (already recommended to this lead) come only after fresh ones, to fill up
    to `limit`: a follow-up shows something new when the catalog has it, and still shows something when not.
    """
    from apps.properties.selectors import MAX_SEARCH_LIMIT, property_search

    excluded = set(exclude_ids)
    wanted = min(limit + len(excluded), MAX_SEARCH_LIMIT)
    for filters in _lead_filters(attributes or {}):
        try:
            hits = property_search(query="", filters=filters, limit=wanted)
        except ApplicationError as exc:  # a criterion no filter accepts: try without it
            logger.info("Listing filters %s refused: %s", filters, exc)
            continue
        if hits:
            listings = [hit.property for hit in hits]
            fresh = [listing for listing in listings if listing.pk not in excluded]
            return (fresh + [listing for listing in listings if listing.pk in excluded])[:limit]
    return []


def listing_ids_recommended(*, lead) -> set[int]:
    """Every listing the lead's earlier mails recommended."""
    from apps.campaigns.models import MessageLog

    return {pk for ids in MessageLog.objects.filter(lead=lead).values_list("listing_ids", flat=True) for pk in ids}
