"""Broker middleware of the jobs: queue names carry DRAMATIQ_QUEUE_PREFIX, so deployments can share a broker."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

from apps.core.jobs import QueuePrefix


def _declare(settings, prefix: str) -> tuple[dramatiq.Actor, StubBroker]:
    settings.DRAMATIQ_QUEUE_PREFIX = prefix
    broker = StubBroker(middleware=[QueuePrefix()])

    def job() -> None:  # pragma: no cover - never run
        pass

    actor = dramatiq.actor(job, broker=broker, queue_name="webhooks")
    return actor, broker


def test_every_queue_gets_the_prefix(settings):
    actor, broker = _declare(settings, "staging-")
    assert actor.queue_name == "staging-webhooks"
    assert broker.get_declared_queues() == {"staging-webhooks", "staging-webhooks.DQ"}  # with its delay queue


def test_no_prefix_keeps_the_names(settings):
    actor, broker = _declare(settings, "")
    assert actor.queue_name == "webhooks" and broker.get_declared_queues() == {"webhooks", "webhooks.DQ"}


def test_the_configured_broker_applies_it():
    from django.conf import settings

    assert settings.DRAMATIQ_BROKER["MIDDLEWARE"][0] == "apps.core.jobs.QueuePrefix"


def test_a_job_the_broker_cannot_take_after_commit_is_logged_not_raised(db, django_capture_on_commit_callbacks, caplog):
    # The change is committed: its answer must not become a 500 (the client would retry it).
    import pytest
    import redis.exceptions

    from apps.core.jobs import enqueue_on_commit

    broker = StubBroker()

    @dramatiq.actor(broker=broker, actor_name="probe_job")
    def probe_job(n): ...

    def down(*args, **kwargs):
        raise redis.exceptions.ConnectionError("Error 111 connecting to localhost:6399. Connection refused.")

    probe_job.send_with_options = down
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(probe_job, 1)
    assert "probe_job in public not queued, the broker is unreachable" in caplog.text

    def broken(*args, **kwargs):
        raise ValueError("a bug, not an outage")

    probe_job.send_with_options = broken
    with pytest.raises(ValueError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(probe_job, 1)
