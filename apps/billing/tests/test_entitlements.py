"""Plans and entitlement_check: a new organization is on the starter trial, and a limit bites with plan_limit."""

from __future__ import annotations

import pytest

from apps.accounts.services import membership_create, user_get_or_create
from apps.billing.models import Entitlement, Plan, Subscription
from apps.billing.services import entitlement_check, plans_sync
from apps.core.errors import ApplicationError


def test_new_organization_starts_on_starter_trial(org):
    subscription = Subscription.objects.get(organization=org)
    assert subscription.plan.code == "starter"
    assert subscription.status == "trialing"
    assert subscription.trial_ends_at > subscription.created_at


def test_plans_sync_is_idempotent_and_reads_stripe_prices(db, settings):
    settings.STRIPE_PRICE_PRO = "price_pro_123"
    plans_sync()
    plans_sync()
    assert Plan.objects.count() == 3
    pro = Plan.objects.get(code="pro")
    assert pro.stripe_price_id == "price_pro_123"
    assert set(pro.entitlements) == set(Entitlement.values)


def test_seats_limit_bites_with_plan_limit(org):
    plan = Subscription.objects.get(organization=org).plan
    plan.entitlements = {**plan.entitlements, Entitlement.SEATS: 2}
    plan.save()
    # The owner holds one seat; one more fits, the third does not.
    second, _ = user_get_or_create(email="second@acme.test")
    membership_create(organization=org, user=second)
    third, _ = user_get_or_create(email="third@acme.test")
    with pytest.raises(ApplicationError) as caught:
        membership_create(organization=org, user=third)
    assert (caught.value.code, caught.value.attr, caught.value.status_code) == ("plan_limit", "seats", 403)
    assert "2 seats" in caught.value.detail


def test_unlimited_when_the_plan_has_no_limit(org):
    plan = Subscription.objects.get(organization=org).plan
    plan.entitlements = {k: v for k, v in plan.entitlements.items() if k != Entitlement.SEATS}
    plan.save()
    entitlement_check(org, Entitlement.SEATS, amount=10_000)


def test_limits_are_per_organization(org, other_org):
    plan = Subscription.objects.get(organization=org).plan  # both are on starter
    plan.entitlements = {**plan.entitlements, Entitlement.SEATS: 1}
    plan.save()
    with pytest.raises(ApplicationError):
        entitlement_check(org, Entitlement.SEATS)
    # The other organization's owner does not count against this one, nor the reverse.
    Subscription.objects.filter(organization=other_org).update(plan=Plan.objects.get(code="pro"))
    entitlement_check(other_org, Entitlement.SEATS)


def test_plan_limit_in_the_api_error_shape(org):
    """ApplicationError reaches an API client as 403 with code plan_limit naming the entitlement."""
    from rest_framework.test import APIRequestFactory

    from apps.core.exception_handler import ExceptionHandler

    request = APIRequestFactory().get("/")
    error = ApplicationError("plan_limit", "The Starter plan allows 2 seats.", attr="seats")
    response = ExceptionHandler(error, {"request": request, "view": None}).run()
    assert response.status_code == 403
    assert response.data == {
        "type": "client_error",
        "errors": [{"code": "plan_limit", "detail": "The Starter plan allows 2 seats.", "attr": "seats"}],
    }


def test_unknown_entitlement_is_a_programming_error(org):
    with pytest.raises(LookupError):
        entitlement_check(org, "teleporters")
