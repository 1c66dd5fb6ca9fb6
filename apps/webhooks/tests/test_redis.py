"""The outbox over a real Redis broker: the right schema per message, and a worker killed mid-delivery loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import uuid

import dramatiq
import pytest
from django.conf import settings
from django_tenants.utils import tenant_context
from dramatiq.brokers.redis import RedisBroker

from apps.core.jobs import TenantMiddleware
from apps.core.periodic import periodic_fan_out, periodic_task_get
from apps.webhooks.actors import webhook_deliver, webhooks_drain, webhooks_sweep
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.tests.brokers import endpoint_for, kill, record, statuses, wait_until, worker_start

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("outbox_settings")]


@pytest.fixture
def redis_broker(monkeypatch):
    """A Redis broker in a namespace of its own; the outbox actors send through it for this test."""
    from django_dramatiq.middleware import DbConnectionsMiddleware

    namespace = f"test-outbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(url=settings.TEST_REDIS_URL, namespace=namespace)
    broker.client.ping()  # no Redis is a failure here, not a skip
    broker.add_middleware(DbConnectionsMiddleware())
    broker.add_middleware(TenantMiddleware())
    for actor in (webhook_deliver, webhooks_drain, webhooks_sweep):
        monkeypatch.setattr(actor, "broker", broker)
        broker.declare_actor(actor)
    yield broker
    keys = list(broker.client.scan_iter(f"{namespace}*"))
    if keys:
        broker.client.delete(*keys)
    broker.close()


def test_redis_broker_runs_each_job_in_its_organizations_schema(committed_org, redis_broker, receiver):
    from conftest import make_organization

    second = make_organization()
    worker = dramatiq.Worker(redis_broker, worker_threads=2, worker_timeout=100)
    try:
        endpoint_for(committed_org, f"{receiver.base_url}/first")
        endpoint_for(second, f"{receiver.base_url}/second")
        worker.start()
        [event] = record(second)  # enqueued on Redis after commit, with the schema in the message
        [request] = receiver.wait_for(1, path="/second")
        wait_until(lambda: set(statuses(second).values()) == {"succeeded"}, 10, "the Redis job did not finish")
        assert request.headers["webhook-id"] == f"msg_{event.uid.hex}"
        assert statuses(committed_org) == {} and [r.path for r in receiver.requests] == ["/second"]
    finally:
        worker.stop()
        second.delete(force_drop=True)


def _start_worker(namespace: str, log) -> subprocess.Popen:
    env = {
        "OUTBOX_TEST_REDIS_URL": settings.TEST_REDIS_URL,
        "OUTBOX_TEST_REDIS_NAMESPACE": namespace,
        "WEBHOOK_SWEEP_GRACE": "0",
    }
    return worker_start("apps.webhooks.tests.redis_worker_settings", env, log)


def test_a_worker_killed_mid_delivery_loses_nothing(committed_org, redis_broker, receiver):
    endpoint_for(committed_org, receiver.url)
    namespace = redis_broker.namespace
    receiver.hold.set()
    with tempfile.TemporaryFile("w+") as log:
        first = _start_worker(namespace, log)
        second = None
        try:
            events = record(committed_org, n=5)
            receiver.wait_for(1, timeout=30)
            assert receiver.requests, "the first worker never started delivering"
            kill(first)  # SIGKILL while the receiver holds its request(s) unanswered
            assert first.returncode == -signal.SIGKILL
            held = {r.headers["webhook-id"] for r in receiver.requests}
            assert not receiver.answered and set(statuses(committed_org).values()) == {"pending"}

            # Its messages sit unacknowledged in Redis (for the broker's 60 s heartbeat timeout), and a
            # drain still waiting in the queue would claim the rows the dead worker held: every message is
            # dropped here, so that the sweep alone must save them; a new worker delivers what it re-queues.
            redis_broker.flush_all()
            receiver.hold.clear()
            assert periodic_fan_out(periodic_task_get("webhooks"), schemas=[committed_org.schema_name]) == 1
            second = _start_worker(namespace, log)
            wait_until(
                lambda: set(statuses(committed_org).values()) == {"succeeded"},
                30,
                "not every delivery succeeded after the sweep",
            )
        except BaseException:
            log.seek(0)
            print(log.read()[-5000:])
            raise
        finally:
            kill(first)
            if second is not None:
                kill(second)

    expected = {f"msg_{event.uid.hex}" for event in events}
    delivered = [request.headers["webhook-id"] for request, status in receiver.answered if status == 200]
    assert set(delivered) == expected  # nothing lost
    assert len(delivered) == len(expected)  # and each answered once
    with tenant_context(committed_org):
        held_rows = WebhookDelivery.objects.filter(webhook_id__in=held)
        assert held_rows and all(row.requeued_at is not None for row in held_rows)  # the sweep saved them
        assert all(row.attempt_count == 1 for row in held_rows)  # the killed attempt left no record
