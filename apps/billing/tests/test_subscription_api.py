"""GET billing/subscription/: the contract's shape, usage from the registry, and nothing across organizations."""

from __future__ import annotations

from apps.billing.models import Entitlement, Subscription
from apps.billing.tests.conftest import checkout_completed, stripe_event
from apps.billing.usage import registered_keys

URL = "/api/v1/billing/subscription/"


def test_a_member_reads_plan_status_entitlements_and_usage(org, client_for, member_of):
    response = client_for(org, user=member_of(org, "member")).get(URL)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"plan", "status", "current_period_end", "entitlements", "usage"}
    assert (body["plan"], body["status"], body["current_period_end"]) == ("starter", "trialing", None)
    assert body["entitlements"] == {
        "listings": 300,
        "ai_replies_per_month": 1000,
        "channels": 1,
        "seats": 2,
        "campaigns": 2,
        "webhook_endpoints": 2,
    }
    assert set(body["usage"]) == set(Entitlement.values)
    # The owner and the member hold two seats.
    assert body["usage"]["seats"] == 2
    for key in Entitlement.values:
        if key in registered_keys():
            assert isinstance(body["usage"][key], int), key
        else:
            assert body["usage"][key] is None, key


def test_an_api_key_reads_it_too(org, client_for, api_key):
    assert client_for(org, api_key=api_key).get(URL).json()["plan"] == "starter"


def test_an_unlimited_entitlement_is_null(org, client_for, member_of):
    plan = Subscription.objects.get(organization=org).plan
    plan.entitlements = {k: v for k, v in plan.entitlements.items() if k != "channels"}
    plan.save()
    assert client_for(org, user=member_of(org, "member")).get(URL).json()["entitlements"]["channels"] is None


def test_a_second_organization_sees_nothing_of_the_first(
    stripe_settings, fake_stripe, stripe_webhook, org, other_org, client_for, member_of, api_key
):
    fake_stripe.set_subscription("sub_acme", status="active", plan="agency", customer="cus_acme")
    completed = checkout_completed(slug="acme", customer="cus_acme", subscription="sub_acme")
    assert stripe_webhook.post(stripe_event("checkout.session.completed", completed)).status_code == 200

    acme_member = member_of(org, "member")
    assert client_for(org, user=acme_member).get(URL).json()["plan"] == "agency"
    globex = client_for(other_org, user=member_of(other_org, "member")).get(URL).json()
    assert (globex["plan"], globex["status"]) == ("starter", "trialing")
    # Acme's member and key get nothing on Globex's host.
    assert client_for(other_org, user=acme_member).get(URL).status_code == 403
    assert client_for(other_org, api_key=api_key).get(URL).status_code == 401
    assert Subscription.objects.get(organization=other_org).stripe_customer_id == ""


def test_needs_authentication(org, client_for):
    assert client_for(org).get(URL).status_code == 401


def test_the_billing_endpoints_are_in_the_openapi_schema(org, client_for):
    paths = client_for(org).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"post"} <= set(paths["/api/v1/billing/checkout/"])
    assert {"post"} <= set(paths["/api/v1/billing/portal/"])
    subscription = paths["/api/v1/billing/subscription/"]["get"]
    schema_ref = subscription["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert schema_ref.endswith("/Subscription")
