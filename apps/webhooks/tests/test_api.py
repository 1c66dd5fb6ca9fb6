"""Contract of webhook-endpoints/ and webhook-deliveries/: shapes, roles, the secret shown once, errors."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from apps.events.services import event_record
from apps.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint

ENDPOINTS = "/api/v1/webhook-endpoints/"
DELIVERIES = "/api/v1/webhook-deliveries/"
ENDPOINT_FIELDS = {"id", "url", "description", "event_types", "is_active", "disabled_reason"}
DELIVERY_FIELDS = {
    "id",
    "event",
    "event_type",
    "endpoint",
    "webhook_id",
    "status",
    "attempt_count",
    "next_attempt_at",
    "attempts",
}
# No worker runs here and the test transaction never commits, so nothing is ever sent to these.
HOOK_URL = "http://127.0.0.1:9/hook"


@pytest.fixture
def admin(org, client_for, api_key):
    return client_for(org, api_key=api_key)


@pytest.fixture
def allow_local(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.N8N_WEBHOOK_URL = ""


def create(client, **overrides):
    return client.post(ENDPOINTS, {"url": HOOK_URL, "event_types": ["*"], **overrides})


def error_attr(response) -> str | None:
    return response.json()["errors"][0]["attr"]


@pytest.mark.usefixtures("allow_local")
class TestEndpoints:
    def test_create_shows_the_secret_once(self, admin, org):
        response = create(admin, description="CRM", event_types=["lead.created", "lead.status_changed"])
        assert response.status_code == 201
        body = response.json()
        assert set(body) == ENDPOINT_FIELDS | {"secret"}
        assert body["secret"].startswith("whsec_")
        assert body["event_types"] == ["lead.created", "lead.status_changed"]
        assert body["is_active"] is True and body["disabled_reason"] == ""

        detail = admin.get(f"{ENDPOINTS}{body['id']}/")
        assert detail.status_code == 200 and set(detail.json()) == ENDPOINT_FIELDS
        listing = admin.get(ENDPOINTS).json()
        assert set(listing) == {"count", "next", "previous", "results"}
        assert listing["count"] == 1 and set(listing["results"][0]) == ENDPOINT_FIELDS

    def test_rotate_secret_shows_the_new_one_once(self, admin, org):
        created = create(admin).json()
        response = admin.post(f"{ENDPOINTS}{created['id']}/rotate-secret/")
        assert response.status_code == 200
        assert set(response.json()) == ENDPOINT_FIELDS | {"secret"}
        assert response.json()["secret"].startswith("whsec_") and response.json()["secret"] != created["secret"]
        with tenant_context(org):
            secrets = WebhookEndpoint.objects.get().secrets
        assert [s["secret"] for s in secrets] == [response.json()["secret"], created["secret"]]
        assert secrets[0]["expires_at"] is None and secrets[1]["expires_at"] is not None

    def test_update_and_delete(self, admin, org):
        endpoint_id = create(admin).json()["id"]
        patched = admin.patch(f"{ENDPOINTS}{endpoint_id}/", {"is_active": False, "description": "paused"})
        assert patched.status_code == 200
        assert patched.json()["is_active"] is False and patched.json()["disabled_reason"]
        patched = admin.patch(f"{ENDPOINTS}{endpoint_id}/", {"is_active": True})
        assert patched.json()["is_active"] is True and patched.json()["disabled_reason"] == ""
        replaced = admin.put(f"{ENDPOINTS}{endpoint_id}/", {"url": HOOK_URL + "2", "event_types": ["lead.created"]})
        assert replaced.status_code == 200 and replaced.json()["url"] == HOOK_URL + "2"
        assert admin.delete(f"{ENDPOINTS}{endpoint_id}/").status_code == 204
        assert admin.get(f"{ENDPOINTS}{endpoint_id}/").status_code == 404

    def test_unknown_event_type_is_a_400_naming_event_types(self, admin):
        response = create(admin, event_types=["lead.exploded"])
        assert response.status_code == 400 and error_attr(response) == "event_types"
        assert create(admin, event_types=[]).status_code == 400

    def test_plan_limit(self, admin):
        # The starter plan allows two endpoints.
        assert create(admin).status_code == 201 and create(admin).status_code == 201
        response = create(admin)
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "plan_limit"
        assert error_attr(response) == "webhook_endpoints"

    def test_ping_queues_a_signed_test_delivery(self, admin, org):
        endpoint_id = create(admin).json()["id"]
        response = admin.post(f"{ENDPOINTS}{endpoint_id}/test/")
        assert response.status_code == 202
        body = response.json()
        assert set(body) == DELIVERY_FIELDS
        assert body["event"] is None and body["event_type"] == "webhook.test" and body["endpoint"] == endpoint_id
        assert body["status"] == "pending" and body["webhook_id"].startswith("msg_")


class TestAccess:
    def test_no_key_is_401(self, org, client_for):
        client = client_for(org)
        assert client.get(ENDPOINTS).status_code == 401
        assert client.get(DELIVERIES).status_code == 401

    def test_another_organizations_key_is_401(self, org, other_org, client_for, api_key):
        assert client_for(other_org, api_key=api_key).get(ENDPOINTS).status_code == 401

    def test_members_read_admins_write(self, org, client_for, member_of, allow_local):
        member = client_for(org, user=member_of(org, "member"))
        assert member.get(ENDPOINTS).status_code == 200
        assert member.get(DELIVERIES).status_code == 200
        response = create(member)
        assert response.status_code == 403 and response.json()["type"] == "client_error"
        admin = client_for(org, user=member_of(org, "admin"))
        endpoint_id = create(admin).json()["id"]
        assert member.post(f"{ENDPOINTS}{endpoint_id}/rotate-secret/").status_code == 403
        assert member.post(f"{ENDPOINTS}{endpoint_id}/test/").status_code == 403
        assert member.delete(f"{ENDPOINTS}{endpoint_id}/").status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/hook",
        "http://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.100.200/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "not a url",
        "https://exa mple.com/hook",  # urlsplit takes a host name with a space, or a NUL, in it
        "https://exa\x00mple.com/hook",
        "https://a..b/hook",
    ],
)
def test_private_or_invalid_urls_are_a_400_naming_url(admin, url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    response = create(admin, url=url)
    assert response.status_code == 400, response.json()
    assert response.json()["type"] == "validation_error" and error_attr(response) == "url"


def test_a_private_url_cannot_be_patched_in(admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    endpoint_id = create(admin, url="https://8.8.8.8/hook").json()["id"]
    response = admin.patch(f"{ENDPOINTS}{endpoint_id}/", {"url": "http://10.0.0.1/"})
    assert response.status_code == 400 and error_attr(response) == "url"


@pytest.mark.usefixtures("allow_local")
class TestDeliveries:
    def make(self, org, status=DeliveryStatus.DEAD, attempts=(500, 500)):
        with tenant_context(org):
            endpoint = WebhookEndpoint.objects.first() or WebhookEndpoint.objects.create(
                url=HOOK_URL, event_types=["*"], secrets=[{"secret": "whsec_c2VjcmV0", "expires_at": None}]
            )
            event_record(type="lead.created", data={"lead": {"id": 1}})
            delivery = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id").first()
            for code in attempts:
                WebhookAttempt.objects.create(delivery=delivery, status_code=code, error=f"HTTP {code}", duration_ms=3)
            delivery.status, delivery.attempt_count = status, len(attempts)
            delivery.next_attempt_at = None if status == DeliveryStatus.DEAD else delivery.next_attempt_at
            delivery.save()
            return delivery

    def test_list_shape_with_attempts(self, admin, org):
        delivery = self.make(org)
        body = admin.get(DELIVERIES).json()
        assert body["count"] == 1
        [item] = body["results"]
        assert set(item) == DELIVERY_FIELDS
        assert item["id"] == delivery.pk and item["event"] == str(delivery.event.uid)
        assert item["event_type"] == "lead.created" and item["endpoint"] == delivery.endpoint_id
        assert item["webhook_id"] == delivery.webhook_id and item["status"] == "dead" and item["attempt_count"] == 2
        assert item["next_attempt_at"] is None
        assert [set(a) for a in item["attempts"]] == [{"status_code", "error", "duration_ms", "created_at"}] * 2
        assert [a["status_code"] for a in item["attempts"]] == [500, 500]

    def test_filters(self, admin, org):
        dead = self.make(org)
        pending = self.make(org, status=DeliveryStatus.PENDING, attempts=())
        assert [d["id"] for d in admin.get(DELIVERIES, {"status": "dead"}).json()["results"]] == [dead.pk]
        assert [d["id"] for d in admin.get(DELIVERIES, {"status": "pending"}).json()["results"]] == [pending.pk]
        assert admin.get(DELIVERIES, {"endpoint": dead.endpoint_id}).json()["count"] == 2
        assert admin.get(DELIVERIES, {"endpoint": dead.endpoint_id + 1}).json()["count"] == 0
        response = admin.get(DELIVERIES, {"status": "exploded"})
        assert response.status_code == 400 and error_attr(response) == "status"

    def test_list_queries_do_not_grow_with_rows(self, admin, org):
        self.make(org)
        admin.get(DELIVERIES)  # the first call also stamps the key's last use
        with CaptureQueriesContext(connection) as one:
            assert admin.get(DELIVERIES).status_code == 200
        for _ in range(5):
            self.make(org)
        with CaptureQueriesContext(connection) as six:
            assert admin.get(DELIVERIES).json()["count"] == 6
        assert len(six) == len(one)

    def test_replay_keeps_the_webhook_id_and_restarts_the_schedule(self, admin, org):
        delivery = self.make(org)
        response = admin.post(f"{DELIVERIES}{delivery.pk}/replay/")
        assert response.status_code == 202
        body = response.json()
        assert body["webhook_id"] == delivery.webhook_id and body["status"] == "pending"
        assert body["next_attempt_at"] is not None
        with tenant_context(org):
            delivery.refresh_from_db()
        assert delivery.schedule_offset == 2 and delivery.attempt_count == 2
        again = admin.post(f"{DELIVERIES}{delivery.pk}/replay/")
        assert again.status_code == 409 and again.json()["type"] == "client_error"

    def test_replay_needs_an_admin(self, org, client_for, member_of):
        delivery = self.make(org)
        member = client_for(org, user=member_of(org, "member"))
        assert member.post(f"{DELIVERIES}{delivery.pk}/replay/").status_code == 403
        assert member.get(f"{DELIVERIES}{delivery.pk}/").status_code == 200

    def test_only_this_organizations_deliveries(self, org, other_org, admin):
        with tenant_context(other_org):
            WebhookEndpoint.objects.create(url=HOOK_URL, event_types=["*"], secrets=[])
            event_record(type="lead.created", data={})
            foreign = WebhookDelivery.objects.get()
        mine = self.make(org)
        assert [d["webhook_id"] for d in admin.get(DELIVERIES).json()["results"]] == [mine.webhook_id]
        assert foreign.webhook_id != mine.webhook_id
        assert admin.get(f"{DELIVERIES}999999/").status_code == 404


def test_openapi_lists_the_webhook_endpoints(org, client_for):
    schema = client_for(org).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/webhook-endpoints/",
        "/api/v1/webhook-endpoints/{id}/",
        "/api/v1/webhook-endpoints/{id}/rotate-secret/",
        "/api/v1/webhook-endpoints/{id}/test/",
        "/api/v1/webhook-deliveries/",
        "/api/v1/webhook-deliveries/{id}/",
        "/api/v1/webhook-deliveries/{id}/replay/",
    ):
        assert path in paths, path
    parameters = {p["name"] for p in paths["/api/v1/webhook-deliveries/"]["get"]["parameters"]}
    assert {"status", "endpoint", "page", "page_size"} <= parameters
