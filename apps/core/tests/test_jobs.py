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
