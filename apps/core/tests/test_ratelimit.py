"""Shared counters and the client's address: what every per-IP and per-visitor limit stands on."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from apps.core.ratelimit import (
    counter_increment,
    counter_value,
    rate_limit_hit,
    rate_limits_hit,
    request_client_ip,
    scope_client_ip,
)


def test_counter_counts_within_its_window():
    assert counter_value("k") == 0
    assert [counter_increment("k", 60) for _ in range(3)] == [1, 2, 3]
    assert counter_value("k") == 3


def test_rate_limit_allows_then_answers_the_wait():
    assert rate_limit_hit("visitor-1", "2/m") is None
    assert rate_limit_hit("visitor-1", "2/m") is None
    wait = rate_limit_hit("visitor-1", "2/m")
    assert wait is not None and 1 <= wait <= 60
    assert rate_limit_hit("visitor-2", "2/m") is None  # another key has its own count


def test_forwarded_for_is_ignored_unless_we_run_the_proxy(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.9")
    scope = {"client": ("10.0.0.9", 5000), "headers": [(b"x-forwarded-for", b"1.2.3.4")]}
    settings.USE_X_FORWARDED_FOR = False
    # A client could send any X-Forwarded-For to dodge per-IP limits: the socket's peer counts.
    assert request_client_ip(request) == "10.0.0.9" and scope_client_ip(scope) == "10.0.0.9"
    settings.USE_X_FORWARDED_FOR = True
    assert request_client_ip(request) == "1.2.3.4" and scope_client_ip(scope) == "1.2.3.4"


@pytest.fixture
def redis_cache(settings):
    """The cache on the real Redis at REDIS_URL, as settings build it, under a private prefix (parallel runs)."""
    from config.settings.base import cache_settings

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {"default": {**cache_settings(settings.TEST_REDIS_URL)["default"], "KEY_PREFIX": prefix}}
    backend = caches["default"]
    yield backend
    client = backend._cache.get_client(write=True)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.mark.redis
def test_redis_counters_of_a_turn_take_one_round_trip(redis_cache, monkeypatch):
    from redis.client import Pipeline, Redis

    commands, pipelines = [], []
    monkeypatch.setattr(Redis, "execute_command", lambda self, *args, **kw: commands.append(args))
    execute = Pipeline.execute
    monkeypatch.setattr(Pipeline, "execute", lambda self, *a, **kw: pipelines.append(1) or execute(self, *a, **kw))
    limits = [("conversation:1", "2/m"), ("ip:10.0.0.9", "3/m")]
    assert rate_limits_hit(limits) is None
    assert rate_limits_hit(limits) is None
    assert (len(pipelines), commands) == (2, [])  # one round trip a turn, nothing else sent
    wait = rate_limits_hit(limits)  # the third: over the visitor's 2/m, not yet the IP's 3/m
    assert wait is not None and 1 <= wait <= 60
    monkeypatch.undo()
    window = int(time.time() // 60)
    assert counter_value(f"ratelimit:ip:10.0.0.9:{window}") == 3  # cache.get reads what INCR wrote
    ttl = redis_cache._cache.get_client().ttl(redis_cache.make_key(f"ratelimit:ip:10.0.0.9:{window}"))
    assert 0 < ttl <= 61


def test_several_limits_count_each_and_answer_the_longest_wait():
    assert rate_limits_hit([("a", "1/m"), ("b", "5/h")]) is None
    wait = rate_limits_hit([("a", "1/m"), ("b", "1/h")])  # both over: the hour's wait
    assert wait is not None and wait > 60
    assert counter_value(f"ratelimit:b:{int(time.time() // 3600)}") == 2


@pytest.mark.redis
def test_redis_cache_backends_share_one_pool_per_process(redis_cache):
    """Django makes a cache backend per async context (each request, each hop of a turn): not a connection each."""
    others = [caches.create_connection("default") for _ in range(3)]
    pools = {id(backend._cache._get_connection_pool(write=True)) for backend in [redis_cache, *others]}
    assert len(pools) == 1
    # One connection serves them all, one after the other (CLIENT ID names the server's connection).
    ids = set()
    for backend in [redis_cache, *others]:
        backend.set("shared", 1)
        assert backend.get("shared") == 1
        ids.add(backend._cache.get_client(write=True).client_id())
    assert len(ids) == 1


@pytest.mark.redis
def test_redis_cache_backends_share_one_client_per_pool(redis_cache):
    """Django would build a redis-py client (~70 µs) for every cache operation; one serves the process."""
    others = [caches.create_connection("default") for _ in range(3)]
    clients = {id(backend._cache.get_client(write=True)) for backend in [redis_cache, *others] for _ in range(2)}
    assert len(clients) == 1
    redis_cache.set("k", 2)
    assert [backend.get("k") for backend in others] == [2, 2, 2]


@pytest.fixture
def redis_down(settings):
    """The cache as settings build it for Redis, on a port where nothing listens."""
    from config.settings.base import cache_settings

    settings.CACHES = cache_settings("redis://127.0.0.1:6399/0")
    return caches["default"]


def test_with_redis_down_the_cache_misses_and_limits_fail_open(redis_down, caplog):
    # Each of these was a 500: the chat's limits, the login throttle, the catalog read, the search.
    from apps.core import cache as shared

    shared._warned_at = 0.0
    assert redis_down.get("k", "default") == "default" and redis_down.get_many(["a", "b"]) == {}
    assert redis_down.add("k", 1) is False  # "someone has it": one-time login links stay one-time
    redis_down.set("k", 1)
    redis_down.delete("k")
    assert rate_limits_hit([("ip:1.2.3.4", "1/m"), ("ip:1.2.3.4", "1/m")]) is None
    assert counter_increment("login:x", 60) == 0 and counter_value("login:x") == 0
    assert "Redis unreachable" in caplog.text
