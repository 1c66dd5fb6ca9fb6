"""POST /webhook/stripe/: real signatures, each event once, any order, state read back from (fake) Stripe."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django_tenants.utils import schema_context

from apps.billing.models import ProcessedStripeEvent, Subscription
from apps.billing.tests.conftest import checkout_completed, invoice, stripe_event
from apps.events.models import Event


def _subscription(org) -> Subscription:
    return Subscription.objects.select_related("plan").get(organization=org)


def _events(org) -> list[Event]:
    with schema_context(org.schema_name):
        return list(Event.objects.filter(type="subscription.updated").order_by("id"))


def _activate_pro(fake_stripe, stripe_webhook, org, *, subscription_id: str = "sub_acme") -> None:
    """The pair Stripe sends after a paid checkout: checkout.session.completed, then subscription.updated."""
    current = fake_stripe.set_subscription(subscription_id, status="active", plan="pro", customer="cus_acme")
    completed = stripe_event(
        "checkout.session.completed",
        checkout_completed(slug=org.slug, customer="cus_acme", subscription=subscription_id),
    )
    assert stripe_webhook.post(completed).status_code == 200
    assert stripe_webhook.post(stripe_event("customer.subscription.updated", current)).status_code == 200


def test_checkout_completed_and_subscription_updated_activate_the_plan(
    stripe_settings, fake_stripe, stripe_webhook, org
):
    period_end = int(time.time()) + 30 * 86400
    current = fake_stripe.set_subscription(
        "sub_acme", status="active", plan="pro", customer="cus_acme", period_end=period_end
    )
    completed = stripe_event(
        "checkout.session.completed", checkout_completed(slug="acme", customer="cus_acme", subscription="sub_acme")
    )

    first = stripe_webhook.post(completed)
    second = stripe_webhook.post(stripe_event("customer.subscription.updated", current))

    assert first.status_code == second.status_code == 200, (first.content, second.content)
    assert first.json() == {"received": True, "duplicate": False}
    subscription = _subscription(org)
    assert (subscription.plan.code, subscription.status) == ("pro", "active")
    assert (subscription.stripe_customer_id, subscription.stripe_subscription_id) == ("cus_acme", "sub_acme")
    assert subscription.current_period_end == datetime.fromtimestamp(period_end, tz=UTC)
    assert subscription.trial_ends_at is None
    assert ProcessedStripeEvent.objects.filter(organization=org).count() == 2
    # The subscription's state was read from Stripe, with the secret key.
    retrievals = fake_stripe.calls("GET", "/v1/subscriptions/sub_acme")
    assert retrievals and retrievals[0].headers["authorization"] == "Bearer sk_test_fake"


def test_activation_records_one_subscription_updated_event_in_the_organization_schema(
    stripe_settings, fake_stripe, stripe_webhook, org, other_org, client_for, member_of
):
    reader = client_for(org, user=member_of(org, "member"))
    _activate_pro(fake_stripe, stripe_webhook, org)

    # The second event of the pair found the state already applied: one change, one event.
    [event] = _events(org)
    api = reader.get("/api/v1/billing/subscription/").json()
    assert event.data == {"subscription": api}
    assert event.data["subscription"]["plan"] == "pro"
    assert _events(other_org) == []


def test_the_same_event_twice_changes_nothing_the_second_time(stripe_settings, fake_stripe, stripe_webhook, org):
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="pro", customer="cus_acme")
    event = stripe_event("customer.subscription.updated", current)
    assert stripe_webhook.post(event).json() == {"received": True, "duplicate": False}
    calls, before = len(fake_stripe.requests), _subscription(org)

    # Stripe's state moves on; a redelivery of the old event must not act again.
    fake_stripe.set_subscription("sub_acme", status="past_due", plan="agency", customer="cus_acme")
    again = stripe_webhook.post(event)

    assert again.status_code == 200
    assert again.json() == {"received": True, "duplicate": True}
    after = _subscription(org)
    assert (after.plan.code, after.status, after.updated_at) == (before.plan.code, before.status, before.updated_at)
    assert len(fake_stripe.requests) == calls
    assert ProcessedStripeEvent.objects.filter(pk=event["id"]).count() == 1
    assert len(_events(org)) == 1


def test_events_in_reverse_order_end_in_the_newest_state(stripe_settings, fake_stripe, stripe_webhook, org):
    now = int(time.time())
    created = fake_stripe.set_subscription("sub_acme", status="trialing", plan="starter", customer="cus_acme")
    upgraded = fake_stripe.set_subscription("sub_acme", status="active", plan="agency", customer="cus_acme")
    # Stripe sent created (older), then updated (newer); they arrive the other way round.
    newer = stripe_event("customer.subscription.updated", upgraded, created=now)
    older = stripe_event("customer.subscription.created", created, created=now - 60)

    assert stripe_webhook.post(newer).status_code == 200
    assert stripe_webhook.post(older).status_code == 200

    subscription = _subscription(org)
    assert (subscription.plan.code, subscription.status) == ("agency", "active")


def test_a_late_subscription_event_before_checkout_completed_still_finds_the_organization(
    stripe_settings, fake_stripe, stripe_webhook, org
):
    # subscription.created arrives first: no ids stored yet, the slug in its metadata says whose it is.
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="pro", customer="cus_acme")
    assert stripe_webhook.post(stripe_event("customer.subscription.created", current)).status_code == 200
    completed = checkout_completed(slug="acme", customer="cus_acme", subscription="sub_acme")
    assert stripe_webhook.post(stripe_event("checkout.session.completed", completed)).status_code == 200

    subscription = _subscription(org)
    assert (subscription.plan.code, subscription.status, subscription.stripe_subscription_id) == (
        "pro",
        "active",
        "sub_acme",
    )


def test_a_late_deletion_of_a_replaced_subscription_is_ignored(stripe_settings, fake_stripe, stripe_webhook, org):
    old = fake_stripe.set_subscription("sub_old", status="canceled", plan="starter", customer="cus_acme")
    _activate_pro(fake_stripe, stripe_webhook, org, subscription_id="sub_new")

    assert stripe_webhook.post(stripe_event("customer.subscription.deleted", old)).status_code == 200

    subscription = _subscription(org)
    assert (subscription.stripe_subscription_id, subscription.plan.code, subscription.status) == (
        "sub_new",
        "pro",
        "active",
    )


@pytest.mark.parametrize(
    "signature",
    [
        "",  # no header at all
        "t=1700000000,v1=deadbeef",
        "garbage",
    ],
)
def test_a_forged_or_missing_signature_is_400_and_stores_nothing(
    stripe_settings, fake_stripe, stripe_webhook, org, signature
):
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="agency", customer="cus_acme")
    event = stripe_event("customer.subscription.updated", current)

    response = stripe_webhook.post(event, signature=signature)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["code"] == "invalid"
    assert not ProcessedStripeEvent.objects.exists()
    assert _subscription(org).plan.code == "starter"
    assert fake_stripe.requests == []


def test_a_signature_made_with_another_secret_or_too_old_is_400(stripe_settings, fake_stripe, stripe_webhook, org):
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="agency", customer="cus_acme")
    event = stripe_event("customer.subscription.updated", current)

    assert stripe_webhook.post(event, secret="whsec_someone_else").status_code == 400
    # Replayed after the 300 s tolerance.
    assert stripe_webhook.post(event, timestamp=int(time.time()) - 301).status_code == 400
    assert not ProcessedStripeEvent.objects.exists()
    assert _subscription(org).plan.code == "starter"


def test_a_tampered_body_is_400(stripe_settings, fake_stripe, stripe_webhook, org):
    import json

    import stripe

    current = fake_stripe.set_subscription("sub_acme", status="active", plan="agency", customer="cus_acme")
    payload = json.dumps(stripe_event("customer.subscription.updated", current))
    signature = stripe.WebhookSignature.generate_signature_header(payload, stripe_settings.STRIPE_WEBHOOK_SECRET)
    response = stripe_webhook.post(payload.replace("agency", "pro"), signature=signature)
    assert response.status_code == 400
    assert not ProcessedStripeEvent.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        "[1, 2]",
        '{"id": "evt_1", "type": "customer.subscription.updated", "created": "abc"}',
        '{"id": "evt_1", "type": "customer.subscription.updated", "created": 1e400}',
        '{"id": "evt_1", "type": "customer.subscription.updated", "data": "x"}',
        '{"id": "evt_1", "type": "customer.subscription.updated", "data": {"object": [1]}}',
        '{"id": "evt_\\u0000", "type": "customer.subscription.updated"}',
        '{"id": "' + "e" * 5000 + '", "type": "customer.subscription.updated"}',
        '{"id": "evt_1", "type": "checkout.session.completed", '
        '"data": {"object": {"client_reference_id": "a\\u0000"}}}',
    ],
)
def test_a_signed_body_that_is_no_stripe_event_is_400_and_stores_nothing(stripe_settings, stripe_webhook, org, payload):
    # Stripe signs only well-formed events; these took a leaked or test secret, and each was a 500.
    response = stripe_webhook.post(payload)
    assert response.status_code == 400, response.content[:200]
    assert not ProcessedStripeEvent.objects.exists()


def test_without_a_webhook_secret_every_webhook_is_400(stripe_settings, fake_stripe, stripe_webhook, org):
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="agency", customer="cus_acme")
    event = stripe_event("customer.subscription.updated", current)
    stripe_settings.STRIPE_WEBHOOK_SECRET = ""
    assert stripe_webhook.post(event).status_code == 400
    assert not ProcessedStripeEvent.objects.exists()


def test_stripe_unreachable_is_503_and_the_event_is_processed_on_stripes_retry(
    stripe_settings, fake_stripe, stripe_webhook, org
):
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="pro", customer="cus_acme")
    event = stripe_event("customer.subscription.updated", current)
    fake_stripe.fail_with = 400

    failed = stripe_webhook.post(event)

    assert failed.status_code == 503, failed.content
    assert failed.json()["errors"][0]["code"] == "billing_unavailable"
    assert not ProcessedStripeEvent.objects.exists()
    fake_stripe.fail_with = None
    assert stripe_webhook.post(event).json() == {"received": True, "duplicate": False}
    assert _subscription(org).plan.code == "pro"


def test_payment_failed_then_paid(stripe_settings, fake_stripe, stripe_webhook, org):
    _activate_pro(fake_stripe, stripe_webhook, org)

    fake_stripe.set_subscription("sub_acme", status="past_due", plan="pro", customer="cus_acme")
    failed = invoice(subscription="sub_acme", customer="cus_acme", status="open")
    assert stripe_webhook.post(stripe_event("invoice.payment_failed", failed)).status_code == 200
    subscription = _subscription(org)
    assert subscription.status == "past_due"
    assert subscription.past_due_since is not None

    fake_stripe.set_subscription("sub_acme", status="active", plan="pro", customer="cus_acme")
    paid = invoice(subscription="sub_acme", customer="cus_acme", status="paid")
    assert stripe_webhook.post(stripe_event("invoice.paid", paid)).status_code == 200
    subscription = _subscription(org)
    assert (subscription.status, subscription.past_due_since) == ("active", None)
    assert [e.data["subscription"]["status"] for e in _events(org)] == ["active", "past_due", "active"]


def test_subscription_deleted_cancels(stripe_settings, fake_stripe, stripe_webhook, org):
    _activate_pro(fake_stripe, stripe_webhook, org)
    ended = fake_stripe.set_subscription("sub_acme", status="canceled", plan="pro", customer="cus_acme")

    assert stripe_webhook.post(stripe_event("customer.subscription.deleted", ended)).status_code == 200

    assert _subscription(org).status == "canceled"


def test_trial_will_end_syncs_the_trial_end(stripe_settings, fake_stripe, stripe_webhook, org):
    trial_end = int(time.time()) + 3 * 86400
    current = fake_stripe.set_subscription(
        "sub_acme", status="trialing", plan="pro", customer="cus_acme", trial_end=trial_end
    )
    response = stripe_webhook.post(stripe_event("customer.subscription.trial_will_end", current))
    assert response.status_code == 200
    subscription = _subscription(org)
    assert (subscription.status, subscription.trial_ends_at) == ("trialing", datetime.fromtimestamp(trial_end, tz=UTC))


def test_an_incomplete_first_payment_leaves_the_trial_alone(stripe_settings, fake_stripe, stripe_webhook, org):
    current = fake_stripe.set_subscription("sub_acme", status="incomplete", plan="pro", customer="cus_acme")
    assert stripe_webhook.post(stripe_event("customer.subscription.created", current)).status_code == 200
    subscription = _subscription(org)
    assert (subscription.plan.code, subscription.status, subscription.stripe_subscription_id) == (
        "starter",
        "trialing",
        "",
    )
    assert _events(org) == []


def test_an_unknown_price_keeps_the_plan(stripe_settings, fake_stripe, stripe_webhook, org):
    current = fake_stripe.set_subscription("sub_acme", status="active", plan="price_someone_else", customer="cus_acme")
    assert stripe_webhook.post(stripe_event("customer.subscription.updated", current)).status_code == 200
    subscription = _subscription(org)
    assert (subscription.plan.code, subscription.status) == ("starter", "active")


def test_unhandled_and_unknown_organization_events_are_acknowledged(stripe_settings, fake_stripe, stripe_webhook, org):
    other = fake_stripe.set_subscription("sub_x", status="active", plan="pro", customer="cus_x", organization="nobody")
    ignored = stripe_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    orphan = stripe_event("customer.subscription.updated", other)

    assert stripe_webhook.post(ignored).status_code == 200
    assert stripe_webhook.post(orphan).status_code == 200

    assert ProcessedStripeEvent.objects.filter(pk__in=[ignored["id"], orphan["id"]], organization=None).count() == 2
    assert _subscription(org).plan.code == "starter"


def test_the_webhook_is_post_only_and_lives_on_the_public_host(stripe_settings, stripe_webhook, org, client_for):
    assert stripe_webhook.client.get("/webhook/stripe/").status_code == 405
    # A tenant host does not route it.
    assert client_for(org).post("/webhook/stripe/", {}, format="json").status_code == 404
