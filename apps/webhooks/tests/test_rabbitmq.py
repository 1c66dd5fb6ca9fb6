"""The outbox over a real RabbitMQ broker: a `dramatiq` worker process runs each job in its organization's schema."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid

import dramatiq
import pika.exceptions
import pytest
from django.conf import settings
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.common import dq_name, q_name, xq_name
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from apps.core.jobs import TenantMiddleware, discover_actors
from apps.webhooks.actors import webhook_deliver, webhooks_drain, webhooks_sweep
from apps.webhooks.tests.brokers import endpoint_for, kill, record, statuses, wait_until, worker_start

pytestmark = [pytest.mark.rabbitmq, pytest.mark.usefixtures("outbox_settings")]


@pytest.fixture
def queue_prefix():
    """RabbitMQ has no namespaces: the queues of this test carry a prefix no other run uses."""
    return f"test-outbox-{os.getpid()}-{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def rabbitmq_broker(monkeypatch, queue_prefix):
    """A RabbitMQ broker; the outbox actors send through it, to their prefixed queue, for this test."""
    from django_dramatiq.middleware import DbConnectionsMiddleware

    broker = RabbitmqBroker(url=settings.TEST_RABBITMQ_URL)
    try:
        assert broker.connection.is_open  # connects now: no RabbitMQ is a failure here, not a skip
    except pika.exceptions.AMQPError as error:
        pytest.fail(f"RabbitMQ is not reachable at {settings.TEST_RABBITMQ_URL}: {error!r}")
    broker.add_middleware(DbConnectionsMiddleware())
    broker.add_middleware(TenantMiddleware())
    for actor in (webhook_deliver, webhooks_drain, webhooks_sweep):
        monkeypatch.setattr(actor, "broker", broker)
        monkeypatch.setattr(actor, "queue_name", f"{queue_prefix}{actor.queue_name}")
        broker.declare_actor(actor)
    yield broker
    # Every queue this test or its worker may have declared: each actor's, with its delay and dead-letter
    # queues (deleting one that was never declared is fine in RabbitMQ), on a fresh connection (the
    # test's may have been idle past its heartbeat).
    del broker.connection
    discover_actors()
    names = {f"{queue_prefix}{q_name(name)}" for name in dramatiq.get_broker().get_declared_queues()}
    for name in sorted(names | broker.get_declared_queues()):
        for queue in (name, dq_name(name), xq_name(name)):
            broker.channel.queue_delete(queue=queue)
    broker.close()


def _start_worker(queue_prefix: str, log) -> subprocess.Popen:
    env = {
        "OUTBOX_TEST_RABBITMQ_URL": settings.TEST_RABBITMQ_URL,
        "OUTBOX_TEST_QUEUE_PREFIX": queue_prefix,
        "N8N_WEBHOOK_URL": "",
    }
    return worker_start("apps.webhooks.tests.rabbitmq_worker_settings", env, log, queues=[f"{queue_prefix}webhooks"])


def test_rabbitmq_broker_runs_each_job_in_its_organizations_schema(
    committed_org, rabbitmq_broker, queue_prefix, receiver
):
    from conftest import make_organization

    first, second = committed_org, make_organization()
    queue = webhook_deliver.queue_name
    with tempfile.TemporaryFile("w+") as log:
        worker = None
        try:
            # Both schemas start their deliveries at id 1: a job run in the wrong schema delivers the
            # other organization's row (or nothing), never the right one.
            _, first_secret = endpoint_for(first, f"{receiver.base_url}/first")
            _, second_secret = endpoint_for(second, f"{receiver.base_url}/second")
            first_events, second_events = record(first, n=2), record(second)

            # Enqueued after commit through RabbitMQ, to this test's own queue, where they wait for a worker.
            wait_until(
                lambda: rabbitmq_broker.get_queue_message_counts(queue) == (3, 0, 0),
                5,
                f"the 3 messages are not waiting in the RabbitMQ queue {queue}",
            )
            assert not receiver.requests

            worker = _start_worker(queue_prefix, log)
            wait_until(
                lambda: len(receiver.requests) >= 3 or worker.poll() is not None,
                30,
                "the dramatiq worker did not make the 3 deliveries over RabbitMQ",
            )
            assert worker.poll() is None, f"the dramatiq worker exited with {worker.returncode}"
            wait_until(
                lambda: set(statuses(first).values()) | set(statuses(second).values()) == {"succeeded"},
                10,
                "the RabbitMQ jobs did not finish",
            )
        except BaseException:
            log.seek(0)
            print(log.read()[-5000:])
            raise
        finally:
            if worker is not None:
                kill(worker)
            second.delete(force_drop=True)

    by_path: dict[str, list] = {}
    for request in receiver.requests:
        by_path.setdefault(request.path, []).append(request)
    for path, org, events, secret, other_secret in (
        ("/first", first, first_events, first_secret, second_secret),
        ("/second", second, second_events, second_secret, first_secret),
    ):
        requests = by_path.get(path, [])
        assert sorted(r.headers["webhook-id"] for r in requests) == sorted(f"msg_{e.uid.hex}" for e in events)
        for request in requests:
            payload = Webhook(secret).verify(request.body, request.headers)
            assert payload["type"] == "lead.created" and payload["data"]["lead"]["org"] == org.slug
            with pytest.raises(WebhookVerificationError):
                Webhook(other_secret).verify(request.body, request.headers)
    assert len(receiver.requests) == 3  # nothing delivered twice, nothing to anyone else
