"""POST billing/checkout/ and billing/portal/: the real Stripe SDK against the fake Stripe API, owner only."""

from __future__ import annotations

import pytest

from apps.billing.models import Subscription
from apps.billing.tests.conftest import PRICES

CHECKOUT = "/api/v1/billing/checkout/"
PORTAL = "/api/v1/billing/portal/"


@pytest.fixture
def owner_client(org, client_for, member_of):
    client = client_for(org, user=member_of(org, "owner", email="owner@acme.test"))
    # drf-standardized-errors reports every 5xx through got_request_exception, which the test client
    # would re-raise; the 503 answers are what these tests look at.
    client.raise_request_exception = False
    return client


def _error(response, status: int, code: str, attr=None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"]) == (code, attr), error
    return error


def test_checkout_creates_a_subscription_session_with_the_plan_price_and_the_slug(
    stripe_settings, fake_stripe, org, owner_client
):
    response = owner_client.post(CHECKOUT, {"plan": "pro"}, format="json")

    assert response.status_code == 200, response.content
    [customer_call] = fake_stripe.calls("POST", "/v1/customers")
    [session_call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert response.json() == {"url": "https://checkout.stripe.test/c/pay/cs_test_2"}
    assert session_call.headers["authorization"] == "Bearer sk_test_fake"
    form = session_call.form
    assert form["mode"] == "subscription"
    assert form["line_items[0][price]"] == PRICES["pro"]
    assert form["line_items[0][quantity]"] == "1"
    assert form["client_reference_id"] == "acme"
    assert form["subscription_data[metadata][organization]"] == "acme"
    assert form["success_url"].startswith("http://acme.localhost:8000/dashboard/billing/?checkout=success")
    assert form["cancel_url"] == "http://acme.localhost:8000/dashboard/billing/?checkout=canceled"
    # The customer is created once, with the organization on it, and stored for reuse.
    assert customer_call.form["name"] == "Acme Realty"
    assert customer_call.form["email"] == "owner@acme.test"
    assert customer_call.form["metadata[organization]"] == "acme"
    subscription = Subscription.objects.get(organization=org)
    assert form["customer"] == subscription.stripe_customer_id != ""
    # Nothing changes before Stripe confirms the payment through the webhook.
    assert (subscription.plan.code, subscription.status) == ("starter", "trialing")


def test_a_second_checkout_reuses_the_stripe_customer(stripe_settings, fake_stripe, owner_client):
    first = owner_client.post(CHECKOUT, {"plan": "pro"}, format="json")
    second = owner_client.post(CHECKOUT, {"plan": "agency"}, format="json")

    assert first.status_code == second.status_code == 200
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1
    sessions = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert [s.form["customer"] for s in sessions] == [sessions[0].form["customer"]] * 2
    assert [s.form["line_items[0][price]"] for s in sessions] == [PRICES["pro"], PRICES["agency"]]


@pytest.mark.parametrize("role", ["admin", "member"])
def test_checkout_and_portal_are_for_the_owner_only(stripe_settings, fake_stripe, org, client_for, member_of, role):
    client = client_for(org, user=member_of(org, role))
    _error(client.post(CHECKOUT, {"plan": "pro"}, format="json"), 403, "permission_denied")
    _error(client.post(PORTAL), 403, "permission_denied")
    assert fake_stripe.requests == []


def test_an_api_key_cannot_start_a_checkout(stripe_settings, fake_stripe, org, client_for, api_key):
    client = client_for(org, api_key=api_key)
    _error(client.post(CHECKOUT, {"plan": "pro"}, format="json"), 403, "permission_denied")
    _error(client.post(PORTAL), 403, "permission_denied")
    assert fake_stripe.requests == []


def test_checkout_needs_authentication(stripe_settings, org, client_for):
    assert client_for(org).post(CHECKOUT, {"plan": "pro"}, format="json").status_code == 401


@pytest.mark.parametrize("body", [{"plan": "platinum"}, {}, {"plan": ""}])
def test_an_unknown_or_missing_plan_is_400_naming_plan(stripe_settings, fake_stripe, owner_client, body):
    response = owner_client.post(CHECKOUT, body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"][0]["attr"] == "plan"
    assert fake_stripe.requests == []


def test_without_stripe_keys_checkout_and_portal_answer_503_billing_unavailable(settings, org, owner_client):
    settings.STRIPE_SECRET_KEY = ""
    error = _error(owner_client.post(CHECKOUT, {"plan": "pro"}, format="json"), 503, "billing_unavailable")
    assert "STRIPE_SECRET_KEY" in error["detail"]
    assert owner_client.post(CHECKOUT, {"plan": "pro"}, format="json").json()["type"] == "server_error"
    _error(owner_client.post(PORTAL), 503, "billing_unavailable")
    # The organization keeps running on its starter trial.
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.plan.code, subscription.status) == ("starter", "trialing")


def test_a_plan_without_a_stripe_price_is_503(stripe_settings, fake_stripe, owner_client):
    from apps.billing.models import Plan

    Plan.objects.filter(code="agency").update(stripe_price_id="")
    _error(owner_client.post(CHECKOUT, {"plan": "agency"}, format="json"), 503, "billing_unavailable")
    assert fake_stripe.requests == []


def test_stripe_refusing_the_call_is_503_billing_unavailable(stripe_settings, fake_stripe, org, owner_client):
    fake_stripe.fail_with = 400
    _error(owner_client.post(CHECKOUT, {"plan": "pro"}, format="json"), 503, "billing_unavailable")
    assert Subscription.objects.get(organization=org).stripe_customer_id == ""


def test_checkout_with_a_live_stripe_subscription_is_409(stripe_settings, fake_stripe, org, owner_client):
    Subscription.objects.filter(organization=org).update(
        stripe_customer_id="cus_live", stripe_subscription_id="sub_live", status="active"
    )
    _error(owner_client.post(CHECKOUT, {"plan": "agency"}, format="json"), 409, "conflict")
    assert fake_stripe.requests == []


def test_a_canceled_organization_can_check_out_again(stripe_settings, fake_stripe, org, owner_client):
    Subscription.objects.filter(organization=org).update(
        stripe_customer_id="cus_old", stripe_subscription_id="sub_old", status="canceled"
    )
    response = owner_client.post(CHECKOUT, {"plan": "pro"}, format="json")
    assert response.status_code == 200, response.content
    assert fake_stripe.calls("POST", "/v1/checkout/sessions")[0].form["customer"] == "cus_old"
    assert fake_stripe.calls("POST", "/v1/customers") == []


def test_portal_opens_for_the_stripe_customer(stripe_settings, fake_stripe, org, owner_client):
    Subscription.objects.filter(organization=org).update(stripe_customer_id="cus_acme")
    response = owner_client.post(PORTAL)
    assert response.status_code == 200, response.content
    [call] = fake_stripe.calls("POST", "/v1/billing_portal/sessions")
    assert response.json() == {"url": "https://billing.stripe.test/p/session/bps_1"}
    assert call.form == {"customer": "cus_acme", "return_url": "http://acme.localhost:8000/dashboard/billing/"}


def test_portal_before_any_checkout_is_409(stripe_settings, fake_stripe, owner_client):
    _error(owner_client.post(PORTAL), 409, "conflict")
    assert fake_stripe.requests == []


def test_dashboard_url_leaves_out_the_default_port(settings, org):
    from apps.billing.services import dashboard_billing_url

    settings.PUBLIC_URL_SCHEME, settings.PORT = "https", 443
    assert dashboard_billing_url(organization=org) == "https://acme.localhost/dashboard/billing/"
