"""Writes of plans and subscriptions (trial, Stripe checkout, portal, webhooks) and the entitlement check."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.billing import stripe_client
from apps.billing.models import Entitlement, Plan, ProcessedStripeEvent, Subscription, SubscriptionStatus
from apps.billing.plans import DEFAULT_PLAN_CODE, DEFAULT_PLANS
from apps.billing.selectors import ai_allowance_forget, subscription_data, subscription_is_read_only
from apps.billing.usage import usage_get
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.text import text_storable
from apps.events.models import EventType
from apps.events.services import event_record
from apps.tenants.models import Organization
from apps.tenants.selectors import organization_get

logger = logging.getLogger(__name__)


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
    plan = Plan.objects.filter(code=code).first() if text_storable(code) else None  # a NUL is no plan's code
    if plan is None:
        if not Plan.objects.exists():
            # A fresh database where init_platform has not run yet: the defaults are the truth.
            plans_sync()
            plan = Plan.objects.filter(code=code).first()
        if plan is None:
            codes = ", ".join(Plan.objects.values_list("code", flat=True))
            raise ApplicationError(
                ErrorCode.INVALID, f"Unknown plan '{code[:40]!s}' (choose one of: {codes}).", attr="plan"
            )
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
    ai_allowance_forget(organization.pk)
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
    if subscription_is_read_only(subscription):
        raise ApplicationError(
            ErrorCode.PLAN_LIMIT,
            "The subscription of this organization is canceled, so nothing new can be added. "
            "Choose a plan to continue.",
            attr=key,
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


# --- Stripe: checkout and portal ------------------------------------------------------------------


def dashboard_billing_url(*, organization: Organization, query: str = "") -> str:
    """The dashboard's billing page on the organization's host, where Stripe sends the owner back."""
    scheme, port = settings.PUBLIC_URL_SCHEME, settings.PORT
    # The scheme's default port is left out so that a production URL reads https://acme.example.com/.
    default_port = {"http": 80, "https": 443}.get(scheme)
    netloc = organization.host if port == default_port else f"{organization.host}:{port}"
    return f"{scheme}://{netloc}/dashboard/billing/{query}"


BILLING_NOT_CONFIGURED = (
    "Billing is not set up on this platform (STRIPE_SECRET_KEY is empty); organizations stay on the starter trial."
)


def _stripe_unavailable(exc: stripe_client.StripeUnavailable) -> ApplicationError:
    return ApplicationError(ErrorCode.BILLING_UNAVAILABLE, str(exc))


def billing_checkout_start(*, organization: Organization, plan_code: str) -> str:
    """Open a Stripe Checkout session (subscription mode) for `plan_code`; return its URL.

    Not one transaction: the Stripe customer is committed as soon as Stripe has created it, so a
    session that then fails to open does not leave an orphan customer behind for the next try.
    """
    plan = plan_get(code=plan_code)
    if not stripe_client.is_configured():
        raise ApplicationError(ErrorCode.BILLING_UNAVAILABLE, BILLING_NOT_CONFIGURED)
    if not plan.stripe_price_id:
        raise ApplicationError(
            ErrorCode.BILLING_UNAVAILABLE, f"The {plan.name} plan has no Stripe price yet; try again later."
        )
    customer = _stripe_customer_ensure(organization=organization)
    try:
        session = stripe_client.checkout_session_create(
            customer=customer,
            price=plan.stripe_price_id,
            client_reference_id=organization.slug,
            success_url=dashboard_billing_url(
                organization=organization, query="?checkout=success&session_id={CHECKOUT_SESSION_ID}"
            ),
            cancel_url=dashboard_billing_url(organization=organization, query="?checkout=canceled"),
            metadata={"organization": organization.slug},
        )
    except stripe_client.StripeUnavailable as exc:
        raise _stripe_unavailable(exc) from exc
    return session["url"]


@transaction.atomic
def _stripe_customer_ensure(*, organization: Organization) -> str:
    """The organization's Stripe customer id, created on first use (and reused on every later checkout)."""
    # The lock makes two concurrent checkouts of one organization share one Stripe customer.
    subscription = Subscription.objects.select_for_update().get(organization=organization)
    if subscription.stripe_subscription_id and subscription.status != SubscriptionStatus.CANCELED:
        # A second Checkout would start a second subscription, billed next to the first.
        raise ApplicationError(
            ErrorCode.CONFLICT,
            "This organization already has a Stripe subscription; change its plan in the billing portal "
            "(POST billing/portal/).",
        )
    if not subscription.stripe_customer_id:
        try:
            customer = stripe_client.customer_create(
                name=organization.name, email=_owner_email(organization), metadata={"organization": organization.slug}
            )
        except stripe_client.StripeUnavailable as exc:
            raise _stripe_unavailable(exc) from exc
        subscription.stripe_customer_id = customer["id"]
        subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    return subscription.stripe_customer_id


@transaction.atomic
def billing_portal_start(*, organization: Organization) -> str:
    """Open a Stripe customer-portal session (payment method, invoices, plan changes); return its URL."""
    if not stripe_client.is_configured():
        raise ApplicationError(ErrorCode.BILLING_UNAVAILABLE, BILLING_NOT_CONFIGURED)
    subscription = Subscription.objects.get(organization=organization)
    if not subscription.stripe_customer_id:
        raise ApplicationError(
            ErrorCode.CONFLICT, "This organization has no Stripe customer yet; choose a plan first (billing/checkout/)."
        )
    try:
        session = stripe_client.portal_session_create(
            customer=subscription.stripe_customer_id, return_url=dashboard_billing_url(organization=organization)
        )
    except stripe_client.StripeUnavailable as exc:
        raise _stripe_unavailable(exc) from exc
    return session["url"]


def _owner_email(organization: Organization) -> str:
    from apps.accounts.models import Membership, Role

    membership = (
        Membership.objects.select_related("user")
        .filter(organization=organization, role=Role.OWNER)
        .order_by("pk")
        .first()
    )
    return membership.user.email if membership else ""


# --- Stripe: webhooks -----------------------------------------------------------------------------

# Stripe's subscription statuses → ours. `incomplete` and `incomplete_expired` are a first payment that
# has not (yet) gone through: they change nothing, so a failed checkout leaves the trial as it was.
STATUS_FROM_STRIPE: dict[str, str] = {
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    # Retries exhausted without canceling, or a trial ended without a payment method: unpaid either way.
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
}
# A subscription in one of these states never replaces the one an organization already follows.
ENDED_STRIPE_STATUSES = frozenset({"canceled", "incomplete", "incomplete_expired"})


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> bool:
    """Verify a Stripe webhook and process its event; False when the event was already processed.

    A bad signature raises `invalid` (400) before anything is stored. When Stripe cannot be read
    (`billing_unavailable`, 503) nothing is stored either, so Stripe's retry processes it later.
    """
    try:
        event = stripe_client.webhook_event_construct(payload=payload, signature=signature)
    except stripe_client.StripeSignatureInvalid as exc:
        raise ApplicationError(ErrorCode.INVALID, f"Invalid Stripe webhook: {exc}") from exc
    return stripe_event_process(event=event)


@transaction.atomic
def stripe_event_process(*, event: dict[str, Any]) -> bool:
    """Act on one verified Stripe event, once per event id, whatever order events arrive in.

    Order: each handler takes the subscription's state from Stripe itself (retrieved now, under a row
    lock on our subscription), never from the event's snapshot, so an old event arriving last
    re-applies the newest state instead of rolling it back.
    """
    # A concurrent duplicate waits on the primary key until this transaction ends, then finds the row.
    record, created = ProcessedStripeEvent.objects.get_or_create(
        id=event["id"],
        defaults={"type": event["type"], "stripe_created_at": _from_timestamp(event.get("created"))},
    )
    if not created:
        logger.info("stripe: event %s already processed", event["id"])
        return False
    handler = _EVENT_HANDLERS.get(event["type"])
    obj = (event.get("data") or {}).get("object") or {}
    organization = handler(obj) if handler else None
    if organization is not None:
        record.organization = organization
        record.save(update_fields=["organization"])
    return True


def _on_checkout_completed(session: dict[str, Any]) -> Organization | None:
    if session.get("mode") != "subscription":
        return None
    slug = session.get("client_reference_id") or (session.get("metadata") or {}).get("organization") or ""
    organization = organization_get(slug=slug)
    if organization is None:
        logger.warning("stripe: checkout session %s names no known organization (%r)", session.get("id"), slug)
        return None
    subscription = _locked_subscription(organization)
    customer = _object_id(session.get("customer"))
    if customer and customer != subscription.stripe_customer_id:
        subscription.stripe_customer_id = customer
        subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    stripe_subscription_id = _object_id(session.get("subscription"))
    if stripe_subscription_id:
        _subscription_sync(subscription=subscription, stripe_subscription_id=stripe_subscription_id)
    return organization


def _on_subscription_event(stripe_subscription: dict[str, Any]) -> Organization | None:
    return _sync_for(
        stripe_subscription_id=stripe_subscription.get("id") or "",
        customer=_object_id(stripe_subscription.get("customer")),
        metadata=stripe_subscription.get("metadata"),
    )


def _on_invoice_event(invoice: dict[str, Any]) -> Organization | None:
    # API versions since 2025-03-31 moved the subscription under parent.subscription_details.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    stripe_subscription_id = _object_id(details.get("subscription")) or _object_id(invoice.get("subscription"))
    if not stripe_subscription_id:
        return None  # a one-off invoice: no subscription state to follow
    return _sync_for(
        stripe_subscription_id=stripe_subscription_id,
        customer=_object_id(invoice.get("customer")),
        metadata=details.get("metadata"),
    )


_EVENT_HANDLERS: dict[str, Callable[[dict[str, Any]], Organization | None]] = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription_event,
    "customer.subscription.updated": _on_subscription_event,
    "customer.subscription.deleted": _on_subscription_event,
    "customer.subscription.trial_will_end": _on_subscription_event,
    "customer.subscription.paused": _on_subscription_event,
    "customer.subscription.resumed": _on_subscription_event,
    "invoice.paid": _on_invoice_event,
    "invoice.payment_failed": _on_invoice_event,
}


def _sync_for(*, stripe_subscription_id: str, customer: str, metadata: dict | None) -> Organization | None:
    organization = _organization_for(
        stripe_subscription_id=stripe_subscription_id, customer=customer, metadata=metadata or {}
    )
    if organization is None:
        logger.warning("stripe: subscription %s belongs to no known organization", stripe_subscription_id)
        return None
    subscription = _locked_subscription(organization)
    _subscription_sync(subscription=subscription, stripe_subscription_id=stripe_subscription_id)
    return organization


def _organization_for(*, stripe_subscription_id: str, customer: str, metadata: dict) -> Organization | None:
    # The ids we stored come first; the slug our checkout put in the metadata covers events that
    # arrive before checkout.session.completed told us the ids.
    found = None
    if stripe_subscription_id:
        found = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
    if found is None and customer:
        found = Subscription.objects.filter(stripe_customer_id=customer).first()
    if found is not None:
        return found.organization
    return organization_get(slug=metadata.get("organization") or "")


def _locked_subscription(organization: Organization) -> Subscription:
    # Events of one organization are applied one at a time, so the last Stripe read wins.
    subscription = Subscription.objects.select_for_update().filter(organization=organization).first()
    if subscription is None:
        subscription = subscription_start_trial(organization=organization)
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    return subscription


def _subscription_sync(*, subscription: Subscription, stripe_subscription_id: str) -> None:
    """Copy the subscription's current state from Stripe; record subscription.updated when it changed."""
    try:
        remote = stripe_client.subscription_retrieve(stripe_subscription_id)
    except stripe_client.StripeUnavailable as exc:
        raise _stripe_unavailable(exc) from exc
    remote_status = remote.get("status") or ""
    tracked = subscription.stripe_subscription_id
    if tracked and tracked != remote["id"] and remote_status in ENDED_STRIPE_STATUSES:
        # A late event about a subscription this organization has since replaced: not its state any more.
        logger.info("stripe: ignoring ended subscription %s (tracking %s)", remote["id"], tracked)
        return
    status = STATUS_FROM_STRIPE.get(remote_status)
    customer = _object_id(remote.get("customer"))
    if customer:
        subscription.stripe_customer_id = customer
    if status is None:
        subscription.save(update_fields=["stripe_customer_id", "updated_at"])
        return
    before = _visible_state(subscription)
    subscription.stripe_subscription_id = remote["id"]
    subscription.plan = _plan_for(remote) or subscription.plan
    if status == SubscriptionStatus.PAST_DUE:
        if subscription.status != SubscriptionStatus.PAST_DUE or subscription.past_due_since is None:
            subscription.past_due_since = timezone.now()
    else:
        subscription.past_due_since = None
    subscription.status = status
    subscription.current_period_end = _period_end(remote)
    subscription.trial_ends_at = _from_timestamp(remote.get("trial_end"))
    subscription.save()
    ai_allowance_forget(subscription.organization_id)
    if _visible_state(subscription) != before:
        organization = subscription.organization
        with schema_context(organization.schema_name):
            event_record(
                type=EventType.SUBSCRIPTION_UPDATED, data={"subscription": subscription_data(subscription=subscription)}
            )


def _visible_state(subscription: Subscription) -> tuple:
    return (subscription.plan_id, subscription.status, subscription.current_period_end, subscription.trial_ends_at)


def _plan_for(remote: dict[str, Any]) -> Plan | None:
    for item in (remote.get("items") or {}).get("data") or []:
        price_id = _object_id(item.get("price"))
        if price_id:
            plan = Plan.objects.filter(stripe_price_id=price_id).first()
            if plan is not None:
                return plan
            logger.warning("stripe: price %s of subscription %s matches no plan", price_id, remote.get("id"))
    return None


def _period_end(remote: dict[str, Any]) -> datetime | None:
    # Since API version 2025-03-31 the billing period lives on each subscription item.
    if remote.get("current_period_end"):
        return _from_timestamp(remote["current_period_end"])
    ends = [item.get("current_period_end") for item in (remote.get("items") or {}).get("data") or []]
    ends = [end for end in ends if end]
    return _from_timestamp(max(ends)) if ends else None


def _object_id(value: Any) -> str:
    """An id from a field Stripe sends either as "id" or, expanded, as {"id": …}."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _from_timestamp(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None
