"""Reads of subscriptions and of what the subscription allows right now (read-only, grace, AI replies, banner)."""

from __future__ import annotations

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


def ai_replies_allowed(organization: Organization) -> tuple[bool, str]:
    """May the assistant answer a visitor now? (allowed, message to show the visitor when not).

    False when the subscription is canceled, past due beyond the grace period, or (once the chat
    engine registers its `ai_replies_per_month` counter) the month's AI replies are used up.
    The message is safe to show to visitors as is.
    """
    subscription = subscription_get(organization=organization)
    if subscription is None or subscription.status == SubscriptionStatus.CANCELED:
        return False, AI_PAUSED_VISITOR_MESSAGE
    grace_end = grace_ends_at(subscription)
    if grace_end is not None and timezone.now() >= grace_end:
        return False, AI_PAUSED_VISITOR_MESSAGE
    limit = subscription.plan.limit(Entitlement.AI_REPLIES)
    counted = Entitlement.AI_REPLIES in registered_keys()
    if limit is not None and counted and usage_get(organization=organization, key=Entitlement.AI_REPLIES) >= limit:
        return False, AI_PAUSED_VISITOR_MESSAGE
    return True, ""


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
