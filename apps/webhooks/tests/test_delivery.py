"""The outbox end to end: a real worker delivers to a real receiver; signatures checked with `standardwebhooks`."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.core.periodic import periodic_fan_out, periodic_task_get
from apps.events.services import event_record
from apps.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from apps.webhooks.services import (
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhook_endpoint_ping,
    webhook_endpoint_secret_rotate,
)

pytestmark = pytest.mark.usefixtures("outbox_settings")

LEAD = {"lead": {"id": 7, "name": "Ana", "email": "ana@example.test", "status": "new"}}


def endpoint_for(org, url, event_types=("*",)) -> tuple[WebhookEndpoint, str]:
    with tenant_context(org):
        return webhook_endpoint_create(organization=org, url=url, event_types=list(event_types))


def record(org, type_="lead.created", data=None):
    with tenant_context(org):
        return event_record(type=type_, data=data or LEAD)


def deliveries(org) -> list[WebhookDelivery]:
    with tenant_context(org):
        return list(WebhookDelivery.objects.order_by("id").prefetch_related("attempts"))


def verify(secret: str, request) -> dict:
    return Webhook(secret).verify(request.body, request.headers)


def test_signed_delivery_verifies_with_standardwebhooks(committed_org, jobs_worker, receiver):
    _, secret = endpoint_for(committed_org, receiver.url)
    event = record(committed_org)
    jobs_worker.drain()

    [request] = receiver.wait_for(1)
    payload = verify(secret, request)
    assert payload == {
        "type": "lead.created",
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": LEAD,
    }
    [delivery] = deliveries(committed_org)
    assert request.headers["webhook-id"] == delivery.webhook_id == f"msg_{event.uid.hex}"
    assert request.headers["content-type"] == "application/json"
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 1
    assert delivery.next_attempt_at is None
    [attempt] = delivery.attempts.all()
    assert attempt.status_code == 200 and attempt.request_headers["webhook-id"] == delivery.webhook_id
    # Tampering is caught by the same library.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"Ana", b"Eve"), request.headers)


def test_500_500_200_is_one_success_after_three_attempts_with_one_webhook_id(committed_org, jobs_worker, receiver):
    _, secret = endpoint_for(committed_org, receiver.url)
    receiver.respond(500, 500, 200)
    record(committed_org)
    jobs_worker.drain()

    requests = receiver.wait_for(3)
    assert len(requests) == 3
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    for request in requests:
        verify(secret, request)
    [delivery] = deliveries(committed_org)
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempt_count == 3
    assert [a.status_code for a in delivery.attempts.all()] == [500, 500, 200]


def test_retry_after_is_respected(committed_org, jobs_worker, receiver):
    endpoint_for(committed_org, receiver.url)
    receiver.respond((503, {"Retry-After": "1"}), 200)
    record(committed_org)
    jobs_worker.drain()

    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 0.95  # the schedule says 0 s; the receiver asked for 1 s
    [delivery] = deliveries(committed_org)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 2


def test_rotation_signs_with_both_secrets_for_24_hours(committed_org, jobs_worker, receiver):
    endpoint, old = endpoint_for(committed_org, receiver.url)
    with tenant_context(committed_org):
        endpoint, new = webhook_endpoint_secret_rotate(endpoint=endpoint)
    assert new != old and new.startswith("whsec_")
    record(committed_org)
    jobs_worker.drain()
    [request] = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    verify(old, request)
    verify(new, request)

    # 24 hours later the old secret has expired: only the new one signs.
    with tenant_context(committed_org):
        endpoint.refresh_from_db()
        expired = (timezone.now() - timedelta(seconds=1)).isoformat()
        endpoint.secrets = [endpoint.secrets[0], {**endpoint.secrets[1], "expires_at": expired}]
        endpoint.save()
    record(committed_org, "lead.updated")
    jobs_worker.drain()
    later = receiver.wait_for(2)[1]
    verify(new, later)
    with pytest.raises(WebhookVerificationError):
        verify(old, later)


def attempt_now(org) -> WebhookDelivery:
    """What the actor does, done here (the test's transaction never commits, so nothing is queued).

    For the outcomes of single attempts; the tests above run the real worker.
    """
    with tenant_context(org):
        [delivery] = WebhookDelivery.objects.all()
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is not None
        delivery.refresh_from_db()
        return delivery


def test_dead_after_the_last_try(org, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0]
    endpoint, _ = endpoint_for(org, receiver.url)
    receiver.default = (503, {})
    record(org)
    statuses = [attempt_now(org).status for _ in range(3)]  # the first try and one per step of the schedule

    assert statuses == [DeliveryStatus.FAILED, DeliveryStatus.FAILED, DeliveryStatus.DEAD]
    with tenant_context(org):
        [delivery] = WebhookDelivery.objects.all()
        assert webhook_delivery_attempt(delivery_id=delivery.pk) is None  # nothing more to do
        endpoint.refresh_from_db()
    assert len(receiver.requests) == 3 and delivery.next_attempt_at is None
    assert delivery.last_status_code == 503 and delivery.last_error == "HTTP 503"
    assert endpoint.is_active and endpoint.failing_since is not None


def test_410_disables_the_endpoint(org, receiver):
    endpoint, _ = endpoint_for(org, receiver.url)
    receiver.respond(410)
    record(org)
    delivery = attempt_now(org)

    assert delivery.status == DeliveryStatus.DEAD and delivery.attempt_count == 1
    with tenant_context(org):
        endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason
    record(org, "lead.updated")  # a disabled endpoint hears nothing more
    assert len(deliveries(org)) == 1


def test_failing_for_five_days_disables_with_a_reason(org, receiver):
    endpoint, _ = endpoint_for(org, receiver.url)
    with tenant_context(org):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=5, hours=1))
    receiver.default = (500, {})
    record(org)
    delivery = attempt_now(org)

    with tenant_context(org):
        endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason.startswith("Failing since") and "HTTP 500" in endpoint.disabled_reason
    assert delivery.status == DeliveryStatus.DEAD and len(receiver.requests) == 1


def test_a_success_ends_the_failing_streak(org, receiver):
    endpoint, _ = endpoint_for(org, receiver.url)
    receiver.respond(500, 200)
    record(org)
    assert attempt_now(org).status == DeliveryStatus.FAILED
    with tenant_context(org):
        endpoint.refresh_from_db()
        assert endpoint.failing_since is not None
    assert attempt_now(org).status == DeliveryStatus.SUCCEEDED
    with tenant_context(org):
        endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failing_since is None


def test_only_subscribed_types_get_a_delivery(org, receiver):
    endpoint_for(org, receiver.url, event_types=["lead.status_changed"])
    record(org, "lead.created")
    record(org, "lead.status_changed", data={**LEAD, "previous_status": "new"})
    assert [d.event_type for d in deliveries(org)] == ["lead.status_changed"]


def test_private_addresses_are_refused_at_delivery(org, receiver, settings):
    endpoint_for(org, receiver.url)  # created while private hosts were allowed
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    settings.WEBHOOK_RETRY_SCHEDULE = [3600]
    record(org)
    delivery = attempt_now(org)

    assert receiver.requests == []
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code is None
    assert "Refused" in delivery.last_error and "127.0.0.1" in delivery.last_error


def test_the_connection_goes_to_the_checked_address(org, receiver, monkeypatch):
    """The name is resolved once, checked, and the request sent to that IP with the name only in Host."""
    lookups = []
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "hooks.agency.test":
            lookups.append(host)
            return real_getaddrinfo("127.0.0.1", port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    port = receiver.server.server_address[1]
    endpoint_for(org, f"http://hooks.agency.test:{port}/hook?x=1")
    lookups.clear()
    record(org)
    assert attempt_now(org).status == DeliveryStatus.SUCCEEDED

    [request] = receiver.wait_for(1)
    assert request.headers["host"] == f"hooks.agency.test:{port}" and request.path == "/hook?x=1"
    assert lookups == ["hooks.agency.test"]  # one lookup: urllib3 connected to the address we checked


def test_a_name_resolving_to_a_private_address_is_refused(org, settings, monkeypatch):
    settings.WEBHOOK_RETRY_SCHEDULE = [3600]
    endpoint_for(org, "https://hooks.agency.test/hook")
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    # The name now points inside the network (DNS rebinding): refused, and nothing is connected.
    rebound = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: rebound)
    record(org)
    delivery = attempt_now(org)
    assert delivery.status == DeliveryStatus.FAILED and "10.0.0.7" in delivery.last_error


def test_redirects_are_not_followed(org, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [3600]
    endpoint_for(org, receiver.url)
    receiver.respond((307, {"Location": f"{receiver.base_url}/elsewhere"}))
    record(org)
    delivery = attempt_now(org)
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 307
    assert delivery.last_error.startswith("HTTP 307 (a redirect: deliveries do not follow them")


def test_a_refused_connection_is_retried_later(org, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [3600]
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint_for(org, f"http://127.0.0.1:{port}/hook")
    record(org)
    delivery = attempt_now(org)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error.startswith("Connection failed")
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=59)


def test_a_slow_receiver_times_out(org, receiver, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [3600]
    settings.WEBHOOK_TIMEOUT = 0.3
    endpoint_for(org, receiver.url)
    receiver.hold.set()
    record(org)
    delivery = attempt_now(org)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error.startswith("Timed out")


def test_response_bodies_are_read_up_to_the_cap(org, receiver, settings):
    settings.WEBHOOK_RESPONSE_MAX_BYTES = 5
    endpoint_for(org, receiver.url)
    record(org)
    delivery = attempt_now(org)
    with tenant_context(org):
        [attempt] = delivery.attempts.all()
    assert delivery.status == DeliveryStatus.SUCCEEDED and attempt.response_body == '{"ok"'


def test_a_second_organization_never_receives_the_first_ones_events(committed_org, jobs_worker, receiver):
    from conftest import make_organization

    second = make_organization()
    try:
        _, first_secret = endpoint_for(committed_org, f"{receiver.base_url}/first")
        _, second_secret = endpoint_for(second, f"{receiver.base_url}/second")
        record(committed_org, data={"lead": {"id": 1, "name": "First's lead"}})
        record(committed_org, "lead.updated", data={"lead": {"id": 1, "name": "First's lead"}})
        jobs_worker.drain()
        assert {r.path for r in receiver.requests} == {"/first"} and len(receiver.requests) == 2
        assert deliveries(second) == []

        record(second, data={"lead": {"id": 1, "name": "Second's lead"}})
        jobs_worker.drain()
        [to_second] = receiver.wait_for(1, path="/second")
        assert verify(second_secret, to_second)["data"]["lead"]["name"] == "Second's lead"
        with pytest.raises(WebhookVerificationError):
            verify(first_secret, to_second)
        assert len(receiver.requests) == 3
    finally:
        second.delete(force_drop=True)


def test_n8n_url_receives_every_organizations_events(committed_org, jobs_worker, receiver, settings):
    from conftest import make_organization

    platform_secret = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
    settings.N8N_WEBHOOK_URL = f"{receiver.base_url}/n8n"
    settings.WEBHOOK_SIGNING_SECRET = platform_secret
    second = make_organization()
    try:
        record(committed_org)
        record(second, "lead.status_changed", data={**LEAD, "previous_status": "new"})
        jobs_worker.drain()
        requests = receiver.wait_for(2, path="/n8n")
        assert sorted(verify(platform_secret, r)["type"] for r in requests) == ["lead.created", "lead.status_changed"]
        [delivery] = deliveries(committed_org)
        assert delivery.endpoint_id is None and delivery.status == DeliveryStatus.SUCCEEDED
    finally:
        second.delete(force_drop=True)


def test_the_sweep_requeues_a_delivery_whose_message_was_lost(committed_org, receiver, settings, request):
    endpoint_for(committed_org, receiver.url)
    record(committed_org)  # queued on the in-memory broker, which no worker drains yet…
    jobs = request.getfixturevalue("jobs_worker")  # …and which this worker starts by flushing: lost
    jobs.drain()
    assert receiver.requests == []

    settings.WEBHOOK_SWEEP_GRACE = 0
    task = periodic_task_get("webhooks")
    assert periodic_fan_out(task) >= 1  # the scheduler's fan-out: one sweep per organization
    jobs.drain()
    assert len(receiver.wait_for(1)) == 1
    [delivery] = deliveries(committed_org)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.requeued_at is not None
    # A second sweep finds nothing to do: a succeeded delivery is never sent again.
    periodic_fan_out(task)
    jobs.drain()
    assert len(receiver.requests) == 1


def test_replay_resends_with_the_same_webhook_id(committed_org, jobs_worker, receiver, client_for, api_key_for):
    _, secret = endpoint_for(committed_org, receiver.url)
    receiver.respond(410)
    record(committed_org)
    jobs_worker.drain()
    [delivery] = deliveries(committed_org)
    assert delivery.status == DeliveryStatus.DEAD

    client = client_for(committed_org, api_key=api_key_for(committed_org))
    endpoint_id = client.get("/api/v1/webhook-endpoints/").json()["results"][0]["id"]
    replay = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/")
    assert replay.status_code == 409  # the 410 disabled the endpoint
    assert client.patch(f"/api/v1/webhook-endpoints/{endpoint_id}/", {"is_active": True}).status_code == 200
    replay = client.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/")
    assert replay.status_code == 202 and replay.json()["webhook_id"] == delivery.webhook_id
    jobs_worker.drain()

    first, second = receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.webhook_id
    verify(secret, second)
    body = client.get(f"/api/v1/webhook-deliveries/{delivery.pk}/").json()
    assert body["status"] == "succeeded" and [a["status_code"] for a in body["attempts"]] == [410, 200]


def test_the_test_ping_is_signed_and_delivered(org, receiver):
    endpoint, secret = endpoint_for(org, receiver.url)
    with tenant_context(org):
        webhook_endpoint_ping(endpoint=endpoint)
    delivery = attempt_now(org)
    [request] = receiver.wait_for(1)
    payload = verify(secret, request)
    assert payload["type"] == "webhook.test" and payload["data"]["webhook_endpoint"]["id"] == endpoint.pk
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.event_id is None


# --- the drain: first tries in batches, one waiting drain per organization ------------------------------


def _drain_queue():
    import dramatiq

    from apps.webhooks.actors import webhooks_drain

    return dramatiq.get_broker().queues[webhooks_drain.queue_name]


def test_new_events_queue_one_drain_which_delivers_them_in_batches(committed_org, jobs_worker, receiver, monkeypatch):
    from apps.webhooks import services

    monkeypatch.setattr(services, "DRAIN_BATCH", 4)
    claimed: list[int] = []
    claim = services._deliveries_claim_due

    def counted_claim(**kwargs):
        deliveries = claim(**kwargs)
        if deliveries:
            claimed.append(len(deliveries))
        return deliveries

    monkeypatch.setattr(services, "_deliveries_claim_due", counted_claim)
    endpoint_for(committed_org, receiver.url)
    jobs_worker.worker.pause()
    events = [record(committed_org) for _ in range(10)]  # ten transactions while no worker runs…
    assert _drain_queue().qsize() == 1  # …and one drain waits for all of them

    jobs_worker.worker.resume()
    jobs_worker.drain()
    requests = receiver.wait_for(10)
    assert sorted(r.headers["webhook-id"] for r in requests) == sorted(f"msg_{e.uid.hex}" for e in events)
    rows = deliveries(committed_org)
    assert [(d.status, d.attempt_count) for d in rows] == [(DeliveryStatus.SUCCEEDED, 1)] * 10
    assert sum(claimed) == 10 and max(claimed) == 4  # claimed four at a time, each once


def test_a_commit_after_a_drain_began_queues_the_next_drain(committed_org, receiver):
    import dramatiq

    from apps.webhooks.services import webhook_deliveries_drain

    dramatiq.get_broker().flush_all()
    endpoint_for(committed_org, receiver.url)
    record(committed_org)
    record(committed_org)
    assert _drain_queue().qsize() == 1
    with tenant_context(committed_org):
        assert webhook_deliveries_drain() == 2  # the drain lifts its marker before it claims…
    record(committed_org)
    assert _drain_queue().qsize() == 2  # …so the next commit queues a drain of its own
    with tenant_context(committed_org):
        assert webhook_deliveries_drain() == 1
        assert webhook_deliveries_drain() == 0  # the drain that was waiting finds nothing left
    dramatiq.get_broker().flush_all()
    assert len(receiver.wait_for(3)) == 3


def test_a_slow_receiver_holds_up_no_other_delivery_of_its_batch(committed_org, receiver, settings):
    import threading
    import time

    from apps.webhooks.services import webhook_deliveries_drain
    from apps.webhooks.tests.conftest import Receiver

    settings.WEBHOOK_TIMEOUT = 3
    receiver.hold.set()  # answers nothing
    endpoint_for(committed_org, receiver.url)
    with Receiver() as quick:
        endpoint_for(committed_org, quick.url)
        record(committed_org)  # one delivery to each endpoint, claimed in one batch

        def drain():
            with tenant_context(committed_org):
                webhook_deliveries_drain()

        started = time.monotonic()
        thread = threading.Thread(target=drain)
        thread.start()
        quick.wait_for(1)
        assert time.monotonic() - started < 2  # not after the held request's 3 s timeout
        thread.join(10)
    statuses = {d.endpoint_id: (d.status, d.last_error) for d in deliveries(committed_org)}
    assert sorted(s for s, _ in statuses.values()) == [DeliveryStatus.FAILED, DeliveryStatus.SUCCEEDED]
    assert any("Timed out" in error for _, error in statuses.values())


@pytest.mark.parametrize(("value", "seconds"), [("120", 120.0), ("²", None), ("", None), ("soon", None)])
def test_retry_after_values_a_receiver_may_send(value, seconds):
    # str.isdigit() is true for "²", which float() refuses: a receiver's odd header failed the attempt's bookkeeping.
    from apps.webhooks.clients import Response

    response = Response(status_code=503, duration_ms=1, headers={"retry-after": value} if value else {})
    assert response.retry_after() == seconds


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_receiver_that_trickles_is_cut_at_the_timeout(phase):
    # urllib3's timeout bounds each read: a byte every 0.2 s held an attempt for minutes, past the
    # actor's time limit, and the attempt was never recorded (found by probing).
    import socket
    import threading
    import time

    from apps.webhooks.clients import post, target_resolve

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def trickle():
        conn, _ = server.accept()
        conn.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
        if phase == "body":
            conn.sendall(head)
        for byte in head if phase == "headers" else b"x" * 100:
            if stop.wait(0.2):
                break
            try:
                conn.send(bytes([byte]))
            except OSError:
                break
        conn.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        target = target_resolve(f"http://127.0.0.1:{server.getsockname()[1]}/hook", allow_private=True)
        started = time.monotonic()
        response = post(target, body=b"{}", headers={}, timeout=1.0)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        server.close()
    assert elapsed < 2.5
    assert response.status_code is None and response.error == "Timed out after 1 s."
