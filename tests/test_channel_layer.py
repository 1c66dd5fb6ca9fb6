"""The channel layer: the in-memory default, and the Redis layer over the real server at REDIS_URL."""

from __future__ import annotations

import uuid

import pytest
from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from django.conf import settings


async def _round_trip(layer) -> None:
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "chat.message", "text": "hello"})
    assert (await layer.receive(channel))["text"] == "hello"

    group = f"org_acme.conversation_{uuid.uuid4().hex[:8]}"
    members = [await layer.new_channel() for _ in range(2)]
    for member in members:
        await layer.group_add(group, member)
    await layer.group_send(group, {"type": "chat.delta", "text": "tok"})
    for member in members:
        assert (await layer.receive(member))["text"] == "tok"
    await layer.group_discard(group, members[0])


async def test_in_memory_layer():
    await _round_trip(InMemoryChannelLayer())


@pytest.mark.redis
async def test_redis_layer_over_real_redis():
    # A private prefix: parallel runs on one Redis never read each other's messages.
    layer = RedisChannelLayer(hosts=[settings.TEST_REDIS_URL], prefix=f"test-{uuid.uuid4().hex[:8]}")
    try:
        await _round_trip(layer)
    finally:
        await layer.flush()
        await layer.close_pools()


def test_settings_pick_redis_when_redis_url_is_set(monkeypatch):
    """base.py itself (not the test override) chooses the Redis layer and broker from REDIS_URL."""
    import importlib
    import sys

    monkeypatch.setenv("REDIS_URL", settings.TEST_REDIS_URL)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@localhost:5432/x")
    sys.modules.pop("config.settings.base", None)
    try:
        base = importlib.import_module("config.settings.base")
        assert base.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
        assert base.DRAMATIQ_BROKER["BROKER"] == "dramatiq.brokers.redis.RedisBroker"
        assert base.JOBS_IN_PROCESS is False
        monkeypatch.delenv("REDIS_URL")
        monkeypatch.setenv("BROKER_URL", "amqp://guest:guest@localhost:5672")
        sys.modules.pop("config.settings.base", None)
        base = importlib.import_module("config.settings.base")
        assert base.CHANNEL_LAYERS["default"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
        assert base.DRAMATIQ_BROKER["BROKER"] == "dramatiq.brokers.rabbitmq.RabbitmqBroker"
    finally:
        sys.modules.pop("config.settings.base", None)


@pytest.mark.redis
async def test_an_idle_consumer_outlives_the_layers_blocking_receive():
    """A consumer waits for messages with a blocking pop of brpop_timeout; its socket must outwait it."""
    import asyncio

    from config.settings.base import channel_layers

    config = channel_layers(settings.TEST_REDIS_URL)["default"]["CONFIG"]
    layer = RedisChannelLayer(**{**config, "prefix": f"test-{uuid.uuid4().hex[:8]}"})
    channel = await layer.new_channel()
    try:
        # Only this test's own deadline may end the wait; redis-py's default 5 s read timeout ended it
        # at the first empty pop (redis.exceptions.TimeoutError, which is no builtin TimeoutError).
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(layer.brpop_timeout + 1.5):
                await layer.receive(channel)
    finally:
        await layer.flush()
        await layer.close_pools()
