"""Dashboard webhooks page: roles, the secret shown once, rotate, deactivate, deliveries and replay, isolation."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django_tenants.utils import tenant_context

from apps.events.services import event_record
from apps.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from apps.webhooks.selectors import webhook_endpoint_active_secrets

pytestmark = pytest.mark.django_db
RANK = {"member": 1, "admin": 2, "owner": 3}
# No worker runs here and the test transaction never commits, so nothing is ever sent to it.
HOOK_URL = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def _setup(settings):
    cache.clear()
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.N8N_WEBHOOK_URL = ""


@pytest.fixture
def people(org, other_org, member_of):
    return {
        "member": member_of(org, "member"),
        "admin": member_of(org, "admin"),
        "owner": member_of(org, "owner", email="owner@acme.test"),
        "outsider": member_of(other_org, "owner", email="boss@globex.test"),
    }


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def endpoint_in(org, url: str = HOOK_URL) -> WebhookEndpoint:
    with tenant_context(org):
        return WebhookEndpoint.objects.create(
            url=url, event_types=["*"], secrets=[{"secret": "whsec_c2VjcmV0", "expires_at": None}]
        )


def dead_delivery(org) -> WebhookDelivery:
    with tenant_context(org):
        event_record(type="lead.created", data={"lead": {"id": 1}})
        delivery = WebhookDelivery.objects.order_by("-id").first()
        WebhookAttempt.objects.create(delivery=delivery, status_code=500, error="HTTP 500", duration_ms=3)
        delivery.status, delivery.attempt_count, delivery.next_attempt_at = DeliveryStatus.DEAD, 1, None
        delivery.last_status_code, delivery.last_error = 500, "HTTP 500"
        delivery.save()
        return delivery


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_members_read_and_only_admins_change(org, people, role):
    endpoint = endpoint_in(org)
    delivery = dead_delivery(org)
    client = browser(org, people[role])
    page = client.get("/dashboard/webhooks/")
    assert page.status_code == 200 and HOOK_URL in page.content.decode()
    can_change = RANK[role] >= RANK["admin"]
    assert (b"Add an endpoint" in page.content) is can_change and (b"Replay" in page.content) is can_change
    expected = 302 if can_change else 403
    posts = [
        ("/dashboard/webhooks/endpoints/", {"url": HOOK_URL + "2", "event_types": ["*"]}),
        (f"/dashboard/webhooks/endpoints/{endpoint.pk}/rotate/", {}),
        (f"/dashboard/webhooks/deliveries/{delivery.pk}/replay/", {}),
        (f"/dashboard/webhooks/endpoints/{endpoint.pk}/deactivate/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == expected, url


def test_anonymous_is_sent_to_the_login_and_outsiders_are_refused(org, people):
    endpoint = endpoint_in(org)
    for method, url in (
        ("get", "/dashboard/webhooks/"),
        ("post", "/dashboard/webhooks/endpoints/"),
        ("post", f"/dashboard/webhooks/endpoints/{endpoint.pk}/rotate/"),
    ):
        response = getattr(browser(org), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/?next=")
        assert getattr(browser(org, people["outsider"]), method)(url).status_code == 403


def test_create_shows_the_secret_once_and_reports_errors_and_the_plan_limit(org, people):
    admin = browser(org, people["admin"])
    created = admin.post(
        "/dashboard/webhooks/endpoints/",
        {"url": HOOK_URL, "description": "CRM", "event_types": ["lead.created"]},
        follow=True,
    ).content.decode()
    with tenant_context(org):
        endpoint = WebhookEndpoint.objects.get()
    secret = endpoint.secrets[0]["secret"]
    assert endpoint.event_types == ["lead.created"] and "copy it now" in created and secret in created
    assert secret not in admin.get("/dashboard/webhooks/").content.decode()

    private = admin.post("/dashboard/webhooks/endpoints/", {"url": "ftp://x", "event_types": ["*"]})
    assert private.status_code == 400 and b'id="url-error"' in private.content
    none = admin.post("/dashboard/webhooks/endpoints/", {"url": HOOK_URL})
    assert none.status_code == 400 and b'id="event_types-error"' in none.content
    # The starter plan allows two endpoints: the third is refused on the form.
    assert (
        admin.post("/dashboard/webhooks/endpoints/", {"url": HOOK_URL + "2", "event_types": ["*"]}).status_code == 302
    )
    third = admin.post("/dashboard/webhooks/endpoints/", {"url": HOOK_URL + "3", "event_types": ["*"]})
    assert third.status_code == 400 and b'role="alert"' in third.content
    with tenant_context(org):
        assert WebhookEndpoint.objects.count() == 2


def test_rotate_shows_the_new_secret_and_deactivate_stops_deliveries(org, people):
    endpoint = endpoint_in(org)
    admin = browser(org, people["admin"])
    page = admin.post(f"/dashboard/webhooks/endpoints/{endpoint.pk}/rotate/", follow=True).content.decode()
    with tenant_context(org):
        endpoint.refresh_from_db()
        signing = webhook_endpoint_active_secrets(endpoint=endpoint)
    assert len(signing) == 2 and signing[0] in page and "24 more hours" in page
    assert admin.post(f"/dashboard/webhooks/endpoints/{endpoint.pk}/deactivate/").status_code == 302
    with tenant_context(org):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason
    assert b"Disabled" in admin.get("/dashboard/webhooks/").content
    assert admin.post("/dashboard/webhooks/endpoints/999999/rotate/").status_code == 404


def test_deliveries_show_status_and_attempts_and_replay(org, people):
    endpoint_in(org)
    delivery = dead_delivery(org)
    admin = browser(org, people["admin"])
    page = admin.get("/dashboard/webhooks/").content.decode()
    assert delivery.webhook_id in page and "Dead" in page and "HTTP 500" in page
    assert delivery.webhook_id not in admin.get("/dashboard/webhooks/?status=succeeded").content.decode()
    replayed = admin.post(f"/dashboard/webhooks/deliveries/{delivery.pk}/replay/", follow=True).content.decode()
    assert "queued again" in replayed
    with tenant_context(org):
        delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.schedule_offset == 1
    again = admin.post(f"/dashboard/webhooks/deliveries/{delivery.pk}/replay/", follow=True).content.decode()
    assert "already queued" in again
    assert admin.post("/dashboard/webhooks/deliveries/999999/replay/").status_code == 404


def test_endpoints_and_deliveries_of_another_organization_never_show(org, other_org, people):
    endpoint_in(org, "http://127.0.0.1:9/acme")
    theirs = endpoint_in(other_org, "http://127.0.0.1:9/globex")
    their_delivery = dead_delivery(other_org)
    admin = browser(org, people["admin"])
    page = admin.get("/dashboard/webhooks/").content.decode()
    assert "/acme" in page and "/globex" not in page and their_delivery.webhook_id not in page
    assert admin.post(f"/dashboard/webhooks/endpoints/{theirs.pk + 1000}/rotate/").status_code == 404
    with tenant_context(other_org):
        assert WebhookEndpoint.objects.get(pk=theirs.pk).secrets == theirs.secrets
