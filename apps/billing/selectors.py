"""Reads of subscriptions and of what the subscription allows right now (read-only, grace, AI replies, banner)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from apps.billing.models import Entitlement, Subscription, SubscriptionStatus
from apps.billing.usage import registered_keys, usage_get
from apps.tenants.models import Organization

# What a website visitor reads when the assistant may not answer: nothing about billing, no blame.
AI_PAUSED_VISITOR_MESSAGE = (
    "Thanks for your message! Our assistant is taking a short break right now, "
    "so a member of our team will get back to you as soon as possible."
)
# The trial-ending banner shows from when Stripe sends customer.subscription.trial_will_end (3 days before).
TRIAL_ENDING_NOTICE = timedelta(days=3)


def subscription_get(*, organization: Organization) -> Subscription | None:
    return Subscription.objects.select_related("plan", "organization").filter(organization=organization).first()


def subscription_usage(*, organization: Organization) -> dict[str, int | None]:
    """Current use of every entitlement, from the usage registry.

    An entitlement whose domain has not registered a counter yet (e.g. AI replies before the chat
    engine exists) is reported as null: unknown, not zero, so nobody reads it as "nothing used".
    """
    counted = set(registered_keys())
    return {
        key: usage_get(organization=organization, key=key) if key in counted else None for key in Entitlement.values
    }


def subscription_data(*, subscription: Subscription) -> dict:
    """The subscription as GET billing/subscription shows it (and subscription.updated events carry it)."""
    plan = subscription.plan
    return {
        "plan": plan.code,
        "status": subscription.status,
        "current_period_end": _iso(subscription.current_period_end),
        # null means unlimited.
        "entitlements": {key: plan.limit(key) for key in Entitlement.values},
        "usage": subscription_usage(organization=subscription.organization),
    }


def subscription_is_read_only(subscription: Subscription | None) -> bool:
    """A canceled subscription leaves the organization's data readable but not changeable."""
    return subscription is not None and subscription.status == SubscriptionStatus.CANCELED


def grace_ends_at(subscription: Subscription) -> datetime | None:
    """When AI replies of a past_due subscription stop; None when it is not past_due."""
    if subscription.status != SubscriptionStatus.PAST_DUE:
        return None
    since = subscription.past_due_since or subscription.updated_at
    return since + timedelta(days=settings.BILLING_GRACE_DAYS)


# Every chat turn asks whether the assistant may answer (two queries, ~1.5 ms of a turn's ~8 ms before the
# model is asked). A yes of a trialing or active subscription is remembered per process for a few seconds,
# as a number of replies this process may start before asking again: the replies left minus a headroom, so
# a limit near its end is always read from the database, and several processes together can overshoot a
# limit only within those seconds and by no more than what was left beyond the headroom. A past-due
# subscription (its grace clock is running) is read every time. A subscription change made in this process
# is seen at once (ai_allowance_forget); one made elsewhere within AI_ALLOWANCE_SECONDS.
AI_ALLOWANCE_SECONDS = 5.0
AI_ALLOWANCE_HEADROOM = 20
_allowances: dict[int, list] = {}  # organization id -> [read at (monotonic), replies left to take or None]
_allowances_lock = threading.Lock()


def ai_replies_allowed(organization: Organization) -> tuple[bool, str]:
    """May the assistant answer a visitor now? (allowed, message to show the visitor when not).

    False when the subscription is canceled, past due beyond the grace period, or (once the chat
    engine registers its `ai_replies_per_month` counter) the month's AI replies are used up.
    The message is safe to show to visitors as is. Each yes counts as one reply started.
    """
    if _allowance_take(organization.pk):
        return True, ""
    allowed, message, left, healthy = _ai_replies_check(organization)
    if allowed and healthy and (left is None or left > AI_ALLOWANCE_HEADROOM):
        spare = None if left is None else left - AI_ALLOWANCE_HEADROOM - 1  # this reply is one of them
        with _allowances_lock:
            _allowances[organization.pk] = [time.monotonic(), spare]
    return allowed, message


def _allowance_take(organization_id: int) -> bool:
    with _allowances_lock:
        allowance = _allowances.get(organization_id)
        if allowance is None or time.monotonic() - allowance[0] >= AI_ALLOWANCE_SECONDS or allowance[1] == 0:
            _allowances.pop(organization_id, None)
            return False
        if allowance[1] is not None:
            allowance[1] -= 1
        return True


def ai_allowance_forget(organization_id: int | None = None) -> None:
    """Forget the remembered allowance of an organization (of all when None): its subscription changed."""
    with _allowances_lock:
        if organization_id is None:
            _allowances.clear()
        else:
            _allowances.pop(organization_id, None)


def _ai_replies_check(organization: Organization) -> tuple[bool, str, int | None, bool]:
    """From the database: (allowed, visitor message, AI replies left this month or None when unlimited,
    whether the subscription is trialing or active)."""
    subscription = subscription_get(organization=organization)
    if subscription is None or subscription.status == SubscriptionStatus.CANCELED:
        return False, AI_PAUSED_VISITOR_MESSAGE, 0, False
    healthy = subscription.status in (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE)
    grace_end = grace_ends_at(subscription)
    if grace_end is not None and timezone.now() >= grace_end:
        return False, AI_PAUSED_VISITOR_MESSAGE, 0, healthy
    limit = subscription.plan.limit(Entitlement.AI_REPLIES)
    if limit is None or Entitlement.AI_REPLIES not in registered_keys():
        return True, "", None, healthy
    left = limit - usage_get(organization=organization, key=Entitlement.AI_REPLIES)
    if left <= 0:
        return False, AI_PAUSED_VISITOR_MESSAGE, 0, healthy
    return True, "", left, healthy


def billing_banner(organization: Organization) -> str | None:
    """The message admins see on top of the dashboard about the subscription, or None when all is well."""
    subscription = subscription_get(organization=organization)
    if subscription is None:
        return "This organization has no subscription: choose a plan to get started."
    if subscription.status == SubscriptionStatus.CANCELED:
        return (
            "Your subscription is canceled, so your data is read-only and the assistant does not answer "
            "visitors. Choose a plan to switch everything back on."
        )
    grace_end = grace_ends_at(subscription)
    if grace_end is not None:
        if timezone.now() < grace_end:
            return (
                f"Your last payment failed. Update your payment method before {_day(grace_end)} "
                "to keep the assistant answering visitors."
            )
        return (
            "Your last payment failed and the assistant has stopped answering visitors. "
            "Update your payment method to switch it back on."
        )
    trial_end = subscription.trial_ends_at
    if (
        settings.STRIPE_SECRET_KEY
        and subscription.status == SubscriptionStatus.TRIALING
        and trial_end is not None
        and trial_end - timezone.now() <= TRIAL_ENDING_NOTICE
    ):
        # Only with Stripe configured: without it the platform runs on the trial and nothing ends.
        return f"Your trial ends on {_day(trial_end)}. Choose a plan to keep your assistant running."
    return None


def _iso(value: datetime | None) -> str | None:
    # The same rendering as every other timestamp of the API (DRF's, UTC with a Z).
    return serializers.DateTimeField().to_representation(value) if value else None


def _day(value: datetime) -> str:
    return f"{value:%B} {value.day}, {value.year}"
