"""The analytics summary of the current organization over the last N days, aggregated in the database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps as django_apps
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.billing.models import Entitlement
from apps.billing.selectors import subscription_get
from apps.billing.usage import registered_keys, usage_get
from apps.chat.models import Conversation, Message, Role
from apps.core.errors import ApplicationError, ErrorCode
from apps.leads.models import Lead, LeadSource, LeadStatus, LeadStatusChange
from apps.webhooks.models import DeliveryStatus, WebhookDelivery

MIN_DAYS = 1
MAX_DAYS = 365
# The email app's message log, looked up by label so analytics keeps working on a platform without it.
EMAIL_LOG_MODEL = ("campaigns", "MessageLog")


def analytics_days_validate(value: Any) -> int:
    """The `days` parameter as an int in 1..365, else a 400 naming `days`."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise ApplicationError(ErrorCode.INVALID, "days must be a whole number of days.", attr="days") from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ApplicationError(ErrorCode.INVALID, f"days must be between {MIN_DAYS} and {MAX_DAYS}.", attr="days")
    return days


def _rate(part: int, whole: int) -> float | None:
    # None rather than 0 when nothing happened: "no data" is not "0 % success".
    return round(part / whole, 4) if whole else None


def _email_log_model():
    try:
        return django_apps.get_model(*EMAIL_LOG_MODEL)
    except LookupError:
        return None


def _email_summary(since) -> dict[str, int] | None:
    """Email numbers from the message log, or None when no email app is installed."""
    model = _email_log_model()
    if model is None:
        return None
    # Each stage has its own timestamp on the log row: counting those (not the latest status) keeps an
    # opened mail counted as opened after it is clicked or the lead unsubscribes.
    return model.objects.filter(created_at__gte=since).aggregate(
        sent=Count("pk", filter=Q(sent_at__isnull=False)),
        delivered=Count("pk", filter=Q(delivered_at__isnull=False)),
        opened=Count("pk", filter=Q(opened_at__isnull=False)),
        clicked=Count("pk", filter=Q(clicked_at__isnull=False)),
        bounced=Count("pk", filter=Q(bounced_at__isnull=False)),
    )


def _ai_replies(organization) -> dict[str, int | None]:
    # None (unknown) when no domain counts AI replies, as billing's usage does.
    counted = Entitlement.AI_REPLIES in registered_keys()
    used = usage_get(organization=organization, key=Entitlement.AI_REPLIES) if counted else None
    subscription = subscription_get(organization=organization)
    limit = subscription.plan.limit(Entitlement.AI_REPLIES) if subscription else None
    return {"used": used, "limit": limit}


def analytics_summary(*, days: int) -> dict[str, Any]:
    """What the assistant did for the organization in the last `days` days (today included).

    Runs in the current tenant's schema. A fixed number of queries whatever the amount of data:
    each block is one grouped or conditional aggregate, and the per-day series come from the
    same grouped rows (at most `days` of them) as the totals.
    """
    days = analytics_days_validate(days)
    organization = connection.tenant
    today = timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(first_day, time.min))
    day_list = [first_day + timedelta(days=offset) for offset in range(days)]

    conversation_rows = (
        Conversation.objects.filter(started_at__gte=since)
        .annotate(day=TruncDate("started_at"))
        .values("day")
        .annotate(total=Count("pk"), with_lead=Count("pk", filter=Q(lead__isnull=False)))
        .order_by()
    )
    message_rows = (
        Message.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            total=Count("pk"),
            visitor=Count("pk", filter=Q(role=Role.VISITOR)),
            assistant=Count("pk", filter=Q(role=Role.ASSISTANT)),
            agent=Count("pk", filter=Q(role=Role.AGENT)),
        )
        .order_by()
    )
    lead_rows = (
        Lead.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status", "source")
        .annotate(total=Count("pk"))
        .order_by()
    )
    # A lead that was ever qualified stays in the funnel's "qualified" stage even if later lost.
    was_qualified = Exists(LeadStatusChange.objects.filter(lead=OuterRef("pk"), to_status=LeadStatus.QUALIFIED))
    funnel = Lead.objects.filter(created_at__gte=since).aggregate(
        qualified=Count("pk", filter=Q(status__in=[LeadStatus.QUALIFIED, LeadStatus.WON]) | Q(was_qualified)),
        won=Count("pk", filter=Q(status=LeadStatus.WON)),
    )
    webhooks = WebhookDelivery.objects.filter(created_at__gte=since).aggregate(
        total=Count("pk"),
        **{status: Count("pk", filter=Q(status=status)) for status in DeliveryStatus.values},
    )

    series: dict[date, dict[str, int]] = {
        day: {"conversations": 0, "messages": 0, "leads": 0, "ai_replies": 0} for day in day_list
    }
    conversations = {"total": 0, "with_lead": 0}
    for row in conversation_rows:
        conversations["total"] += row["total"]
        conversations["with_lead"] += row["with_lead"]
        if row["day"] in series:
            series[row["day"]]["conversations"] = row["total"]
    messages = {"total": 0, Role.VISITOR: 0, Role.ASSISTANT: 0, Role.AGENT: 0}
    for row in message_rows:
        for key in messages:
            messages[key] += row[key]
        if row["day"] in series:
            series[row["day"]]["messages"] = row["total"]
            series[row["day"]]["ai_replies"] = row["assistant"]
    by_status = dict.fromkeys(LeadStatus.values, 0)
    by_source = dict.fromkeys(LeadSource.values, 0)
    leads_total = 0
    for row in lead_rows:
        leads_total += row["total"]
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["total"]
        by_source[row["source"]] = by_source.get(row["source"], 0) + row["total"]
        if row["day"] in series:
            series[row["day"]]["leads"] += row["total"]

    settled = webhooks["succeeded"] + webhooks["failed"] + webhooks["dead"]
    email = _email_summary(since)
    return {
        "days": days,
        "start": first_day.isoformat(),
        "end": today.isoformat(),
        "conversations": conversations["total"],
        "conversations_with_lead": conversations["with_lead"],
        "messages": {
            "total": messages["total"],
            "visitor": messages[Role.VISITOR],
            "assistant": messages[Role.ASSISTANT],
            "agent": messages[Role.AGENT],
        },
        "leads": {"total": leads_total, "by_status": by_status, "by_source": by_source},
        "funnel": {
            "conversations": conversations["total"],
            "leads": leads_total,
            "qualified": funnel["qualified"],
            "won": funnel["won"],
        },
        # Conversations of the period that became a lead: the assistant's own conversion.
        "conversion_rate": _rate(conversations["with_lead"], conversations["total"]),
        "ai_replies": _ai_replies(organization),
        # Mails of the period: sent, delivered, opened, clicked, bounced (null without the email app).
        "email": email,
        "webhooks": {
            "total": webhooks["total"],
            "succeeded": webhooks["succeeded"],
            "failed": webhooks["failed"],
            "dead": webhooks["dead"],
            "pending": webhooks["pending"],
            # Of the deliveries tried at least once (pending ones have no outcome yet).
            "success_rate": _rate(webhooks["succeeded"], settled),
        },
        "series": [{"date": day.isoformat(), **values} for day, values in series.items()],
    }
