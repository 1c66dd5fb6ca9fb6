"""Entitlements that bite: limits that free up on upgrade, the past-due grace period, and a canceled read-only API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from apps.accounts.permissions import IsOrgAdmin, IsOrgMemberReadAdminWrite
from apps.accounts.services import membership_create, user_get_or_create
from apps.billing.models import Subscription
from apps.billing.permissions import SubscriptionWritable
from apps.billing.selectors import AI_PAUSED_VISITOR_MESSAGE, ai_replies_allowed, billing_banner
from apps.billing.services import entitlement_check
from apps.billing.tests.conftest import checkout_completed, stripe_event
from apps.billing.usage import registered_keys, usage_get
from apps.core.errors import ApplicationError

ORGANIZATION = "/api/v1/organization/"


def _set(org, **fields) -> None:
    Subscription.objects.filter(organization=org).update(**fields)


def _upgrade_to_pro(fake_stripe, stripe_webhook, org) -> None:
    fake_stripe.set_subscription("sub_acme", status="active", plan="pro", customer="cus_acme", organization=org.slug)
    completed = checkout_completed(slug=org.slug, customer="cus_acme", subscription="sub_acme")
    assert stripe_webhook.post(stripe_event("checkout.session.completed", completed)).status_code == 200


# --- limits ---------------------------------------------------------------------------------------


def test_seats_block_at_the_limit_and_free_up_on_upgrade(stripe_settings, fake_stripe, stripe_webhook, org):
    # Starter allows 2 seats: the owner and one more.
    second, _ = user_get_or_create(email="second@acme.test")
    membership_create(organization=org, user=second)
    third, _ = user_get_or_create(email="third@acme.test")
    with pytest.raises(ApplicationError) as caught:
        membership_create(organization=org, user=third)
    assert (caught.value.code, caught.value.attr, caught.value.status_code) == ("plan_limit", "seats", 403)

    _upgrade_to_pro(fake_stripe, stripe_webhook, org)

    membership_create(organization=org, user=third)
    assert usage_get(organization=org, key="seats") == 3


# Every entitlement whose domain has registered its usage counter (seats, listings, webhook
# endpoints so far); the others cannot be counted yet, so there is nothing to bite on.
@pytest.mark.parametrize("key", registered_keys())
def test_each_counted_entitlement_blocks_at_its_limit_and_frees_up_on_upgrade(
    stripe_settings, fake_stripe, stripe_webhook, org, key
):
    used = usage_get(organization=org, key=key)
    starter = Subscription.objects.get(organization=org).plan
    starter.entitlements = {**starter.entitlements, key: used}
    starter.save()
    with pytest.raises(ApplicationError) as caught:
        entitlement_check(org, key)
    assert (caught.value.code, caught.value.attr) == ("plan_limit", key)

    _upgrade_to_pro(fake_stripe, stripe_webhook, org)

    entitlement_check(org, key)


# --- past due: a grace period, then AI replies stop -----------------------------------------------


def test_past_due_within_the_grace_period_keeps_everything_running(org, client_for, member_of):
    _set(org, status="past_due", past_due_since=timezone.now() - timedelta(days=6))

    assert ai_replies_allowed(org) == (True, "")
    banner = billing_banner(org)
    assert banner.startswith("Your last payment failed. Update your payment method before ")
    entitlement_check(org, "seats")
    response = client_for(org, user=member_of(org, "admin")).patch(ORGANIZATION, {"name": "Still Acme"}, format="json")
    assert response.status_code == 200


def test_past_due_after_the_grace_period_stops_ai_replies_politely(settings, org, client_for, member_of):
    settings.BILLING_GRACE_DAYS = 7
    _set(org, status="past_due", past_due_since=timezone.now() - timedelta(days=7, minutes=1))

    allowed, message = ai_replies_allowed(org)

    assert (allowed, message) == (False, AI_PAUSED_VISITOR_MESSAGE)
    # Visitors hear nothing about the agency's billing.
    assert not {"payment", "billing", "subscription", "plan"} & set(message.lower().replace(",", " ").split())
    assert "stopped answering visitors" in billing_banner(org)
    # Only AI replies stop: the team keeps working.
    response = client_for(org, user=member_of(org, "admin")).patch(ORGANIZATION, {"name": "Still Acme"}, format="json")
    assert response.status_code == 200


def test_the_grace_period_follows_the_setting(settings, org):
    _set(org, status="past_due", past_due_since=timezone.now() - timedelta(days=2))
    settings.BILLING_GRACE_DAYS = 3
    assert ai_replies_allowed(org)[0] is True
    settings.BILLING_GRACE_DAYS = 1
    assert ai_replies_allowed(org)[0] is False


def test_grace_starts_when_stripe_reports_the_failed_payment(stripe_settings, fake_stripe, stripe_webhook, org):
    _upgrade_to_pro(fake_stripe, stripe_webhook, org)
    current = fake_stripe.set_subscription("sub_acme", status="past_due", plan="pro", customer="cus_acme")
    assert stripe_webhook.post(stripe_event("customer.subscription.updated", current)).status_code == 200
    assert ai_replies_allowed(org) == (True, "")

    # A week and a day later (the grace period's clock is our own record of when it became past_due).
    _set(org, past_due_since=Subscription.objects.get(organization=org).past_due_since - timedelta(days=8))
    assert ai_replies_allowed(org)[0] is False

    fake_stripe.set_subscription("sub_acme", status="active", plan="pro", customer="cus_acme")
    paid = stripe_event("customer.subscription.updated", fake_stripe.subscriptions["sub_acme"])
    assert stripe_webhook.post(paid).status_code == 200
    assert ai_replies_allowed(org) == (True, "")
    assert billing_banner(org) is None


def test_healthy_subscriptions_have_no_banner(org):
    assert ai_replies_allowed(org) == (True, "")
    assert billing_banner(org) is None


def test_trial_ending_banner_only_when_stripe_is_configured(settings, org):
    _set(org, trial_ends_at=timezone.now() + timedelta(days=2))
    settings.STRIPE_SECRET_KEY = ""
    assert billing_banner(org) is None
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    assert billing_banner(org).startswith("Your trial ends on ")


# --- canceled: read-only ----------------------------------------------------------------------------


def _read_only_error(response) -> None:
    assert response.status_code == 403, response.content
    [error] = response.json()["errors"]
    assert error["code"] == "plan_limit"
    assert "canceled" in error["detail"]


def test_canceled_makes_the_api_read_only(org, other_org, client_for, member_of, api_key):
    _set(org, status="canceled")
    admin = client_for(org, user=member_of(org, "admin"))

    _read_only_error(admin.patch(ORGANIZATION, {"name": "Changed"}, format="json"))
    _read_only_error(client_for(org, api_key=api_key).patch(ORGANIZATION, {"name": "Changed"}, format="json"))
    org.refresh_from_db()
    assert org.name == "Acme Realty"
    # Reading goes on.
    assert admin.get(ORGANIZATION).status_code == 200
    assert admin.get("/api/v1/billing/subscription/").json()["status"] == "canceled"
    # No credentials: still 401 first.
    assert client_for(org).patch(ORGANIZATION, {"name": "Changed"}, format="json").status_code == 401
    # Another organization is not affected.
    other_admin = client_for(other_org, user=member_of(other_org, "admin"))
    assert other_admin.patch(ORGANIZATION, {"name": "Globex Two"}, format="json").status_code == 200


def test_canceled_refuses_every_entitlement_and_ai_replies(org):
    _set(org, status="canceled")
    user, _ = user_get_or_create(email="second@acme.test")
    with pytest.raises(ApplicationError) as caught:
        membership_create(organization=org, user=user)
    assert (caught.value.code, caught.value.attr) == ("plan_limit", "seats")
    assert "canceled" in caught.value.detail
    assert ai_replies_allowed(org) == (False, AI_PAUSED_VISITOR_MESSAGE)
    assert "read-only" in billing_banner(org)


def test_billing_stays_writable_when_canceled(stripe_settings, fake_stripe, org, client_for, member_of):
    _set(org, status="canceled", stripe_customer_id="cus_acme", stripe_subscription_id="sub_old")
    owner = client_for(org, user=member_of(org, "owner", email="owner@acme.test"))

    assert owner.post("/api/v1/billing/checkout/", {"plan": "pro"}, format="json").status_code == 200
    assert owner.post("/api/v1/billing/portal/").status_code == 200


class _DefaultPermissionsView(APIView):
    """A view like most: it leaves permission_classes to REST_FRAMEWORK's defaults."""

    def post(self, request):
        return Response({"ok": True}, status=201)


class _ComposedView(_DefaultPermissionsView):
    permission_classes = [IsOrgAdmin & SubscriptionWritable]


def _drf_post(view, org, user=None):
    request = APIRequestFactory().post("/api/v1/anything/", {}, format="json")
    request.tenant = org
    if user is not None:
        force_authenticate(request, user=user)
    return view.as_view()(request)


@pytest.mark.parametrize("view", [_DefaultPermissionsView, _ComposedView])
def test_drf_views_with_subscription_writable_refuse_writes_when_canceled(org, member_of, view):
    admin = member_of(org, "admin")
    assert _drf_post(view, org, admin).status_code == 201

    _set(org, status="canceled")

    response = _drf_post(view, org, admin)
    assert response.status_code == 403
    assert response.data["errors"][0]["code"] == "plan_limit"
    assert "canceled" in response.data["errors"][0]["detail"]
    # Authentication is still checked first.
    assert _drf_post(view, org).status_code == 401


def test_views_with_their_own_role_permissions_refuse_writes_when_canceled(org, member_of):
    """No middleware backstop: the role classes themselves carry the rule."""

    class OwnList(_DefaultPermissionsView):
        permission_classes = [IsOrgMemberReadAdminWrite]

    admin = member_of(org, "admin")
    assert _drf_post(OwnList, org, admin).status_code == 201
    _set(org, status="canceled")
    response = _drf_post(OwnList, org, admin)
    assert response.status_code == 403 and response.data["errors"][0]["code"] == "plan_limit"


def test_wrong_key_on_a_canceled_organization_is_still_401(org, client_for):
    _set(org, status="canceled")
    response = client_for(org, api_key="wrong.key").patch("/api/v1/organization/", {"name": "x"}, format="json")
    assert response.status_code == 401


# --- the AI reply allowance a process remembers between chat turns ----------------------------------


def _ai_limit(org, limit: int) -> None:
    plan = Subscription.objects.get(organization=org).plan
    plan.entitlements = {**plan.entitlements, "ai_replies_per_month": limit}
    plan.save()


def _reads_the_database(org) -> bool:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert ai_replies_allowed(org)[0] is True
    return len(queries) > 0


def test_a_healthy_allowance_is_remembered_for_the_next_turns(org, django_assert_num_queries):
    assert ai_replies_allowed(org) == (True, "")
    with django_assert_num_queries(0):
        assert ai_replies_allowed(org) == (True, "")


def test_the_remembered_allowance_runs_out_and_is_read_again(settings, org, django_assert_num_queries):
    from apps.billing import selectors

    _ai_limit(org, selectors.AI_ALLOWANCE_HEADROOM + 3)  # 23 left: this reply and 2 more from memory
    assert ai_replies_allowed(org)[0] is True
    with django_assert_num_queries(0):
        assert ai_replies_allowed(org)[0] is True
        assert ai_replies_allowed(org)[0] is True
    assert _reads_the_database(org)


def test_near_its_limit_the_allowance_is_read_every_time(org):
    from apps.billing import selectors

    _ai_limit(org, selectors.AI_ALLOWANCE_HEADROOM)
    assert _reads_the_database(org)
    assert _reads_the_database(org)
    _ai_limit(org, 0)
    assert ai_replies_allowed(org) == (False, AI_PAUSED_VISITOR_MESSAGE)


def test_a_remembered_allowance_ends_with_its_seconds_and_at_a_subscription_change(
    stripe_settings, fake_stripe, stripe_webhook, org, monkeypatch
):
    from apps.billing import selectors

    assert ai_replies_allowed(org)[0] is True
    _set(org, status="canceled")  # behind the platform's back: seen once the memory expires
    assert ai_replies_allowed(org)[0] is True
    monkeypatch.setattr(selectors, "AI_ALLOWANCE_SECONDS", 0.0)
    assert ai_replies_allowed(org)[0] is False
    monkeypatch.undo()

    _upgrade_to_pro(fake_stripe, stripe_webhook, org)
    assert ai_replies_allowed(org)[0] is True
    current = fake_stripe.set_subscription("sub_acme", status="canceled", plan="pro", customer="cus_acme")
    assert stripe_webhook.post(stripe_event("customer.subscription.deleted", current)).status_code == 200
    assert ai_replies_allowed(org) == (False, AI_PAUSED_VISITOR_MESSAGE)
