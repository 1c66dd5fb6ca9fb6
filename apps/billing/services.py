"""Writes of plans and subscriptions, and the entitlement check every limited feature calls."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.billing.models import Entitlement, Plan, Subscription, SubscriptionStatus
from apps.billing.plans import DEFAULT_PLAN_CODE, DEFAULT_PLANS
from apps.billing.usage import usage_get
from apps.core.errors import ApplicationError, ErrorCode
from apps.tenants.models import Organization


@transaction.atomic
def plans_sync() -> list[Plan]:
    """Create or update the default plans; Stripe price ids come from STRIPE_PRICE_*."""
    plans = []
    for order, spec in enumerate(DEFAULT_PLANS):
        plan, _ = Plan.objects.update_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "monthly_price_cents": spec["monthly_price_cents"],
                "stripe_price_id": getattr(settings, spec["price_setting"], "") or "",
                "entitlements": {str(k): v for k, v in spec["entitlements"].items()},
                "sort_order": order,
            },
        )
        plans.append(plan)
    return plans


def plan_get(*, code: str) -> Plan:
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        if not Plan.objects.exists():
            # A fresh database where init_platform has not run yet: the defaults are the truth.
            plans_sync()
            plan = Plan.objects.filter(code=code).first()
        if plan is None:
            codes = ", ".join(Plan.objects.values_list("code", flat=True))
            raise ApplicationError(ErrorCode.INVALID, f"Unknown plan '{code}' (choose one of: {codes}).", attr="plan")
    return plan


@transaction.atomic
def subscription_start_trial(*, organization: Organization, plan_code: str = DEFAULT_PLAN_CODE) -> Subscription:
    plan = plan_get(code=plan_code)
    subscription, _ = Subscription.objects.update_or_create(
        organization=organization,
        defaults={
            "plan": plan,
            "status": SubscriptionStatus.TRIALING,
            "trial_ends_at": timezone.now() + timedelta(days=settings.TRIAL_DAYS),
        },
    )
    return subscription


def entitlement_check(organization: Organization, key: str, amount: int = 1) -> None:
    """Raise `plan_limit` when adding `amount` of `key` would pass the organization's plan limit.

    Callers run this inside the transaction that creates the thing, so that the count and the
    insert see the same data.
    """
    if key not in Entitlement.values:
        # A typo in a caller must not read as "unlimited".
        raise LookupError(f"Unknown entitlement '{key}'.")
    subscription = Subscription.objects.select_related("plan").filter(organization=organization).first()
    if subscription is None:
        raise ApplicationError(
            ErrorCode.PLAN_LIMIT, "This organization has no subscription; choose a plan first.", attr=key
        )
    limit = subscription.plan.limit(key)
    if limit is None:
        return
    used = usage_get(organization=organization, key=key)
    if used + amount > limit:
        raise ApplicationError(
            ErrorCode.PLAN_LIMIT,
            f"The {subscription.plan.name} plan allows {limit} {key.replace('_', ' ')}; "
            f"{used} in use, {amount} more requested. Upgrade the plan to add more.",
            attr=key,
        )
