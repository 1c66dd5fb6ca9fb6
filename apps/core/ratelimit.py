"""Fixed-window counters in the cache (Redis when configured) and the client's address, for every limit we keep."""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from apps.core.cache import UNREACHABLE, unreachable_warn

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'20/m' → (20, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()[:1]]


def counter_increment(key: str, window_seconds: int) -> int:
    """Add one to `key` and return the new count; the count starts over `window_seconds` after its first hit."""
    # add() then incr(): atomic in Redis and in the local-memory cache alike.
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr (or never added: Redis was unreachable)
        cache.set(key, 1, timeout=window_seconds)
        return 1
    except UNREACHABLE as exc:
        unreachable_warn("rate limits are not counted", exc)  # fail open, as counters_increment does
        return 0


def counters_increment(counters: list[tuple[str, int]]) -> list[int]:
    """counter_increment for each (key, window_seconds), in one round trip when the cache is Redis.

    Through the cache API a counter costs three round trips to Redis (add, then incr's existence check
    and INCRBY); a chat turn keeps two before the model is asked. Here both go in one pipeline:
    `SET key 0 EX window NX` then `INCR key` per counter, the same values cache.get reads.
    """
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return [counter_increment(key, window) for key, window in counters]
    # Django's Redis backend offers no pipeline; its client (the process's shared pool) does.
    pipeline = backend._cache.get_client(write=True).pipeline(transaction=False)
    for key, window in counters:
        name = backend.make_and_validate_key(key)
        pipeline.set(name, 0, ex=window, nx=True)
        pipeline.incr(name)
    try:
        return [int(count) for count in pipeline.execute()[1::2]]
    except UNREACHABLE as exc:
        # Fail open: with Redis down a visitor still gets answers and an owner can still log in (each
        # was a 500); the log says the limits are off. Counting resumes when Redis is back.
        unreachable_warn("rate limits are not counted", exc)
        return [0 for _ in counters]


def counter_value(key: str) -> int:
    return cache.get(key, 0)  # 0 when Redis is down (apps.core.cache.RedisCache)


def rate_limits_hit(limits: Iterable[tuple[str, str]]) -> int | None:
    """Count one hit on each (key, rate); the seconds to wait when any is over its limit, else None."""
    now = time.time()
    counters, ceilings = [], []
    for key, rate in limits:
        limit, period = parse_rate(rate)
        counters.append((f"ratelimit:{key}:{int(now // period)}", period + 1))
        ceilings.append((limit, period))
    waits = [
        max(1, period - int(now) % period)
        for count, (limit, period) in zip(counters_increment(counters), ceilings, strict=True)
        if count > limit
    ]
    return max(waits) if waits else None


def rate_limit_hit(key: str, rate: str) -> int | None:
    """Count one hit; return the seconds to wait when over the limit, else None."""
    return rate_limits_hit([(key, rate)])


def client_ip(*, remote_addr: str | None, forwarded_for: str | None) -> str:
    """The client's address. X-Forwarded-For is believed only behind a proxy we run (USE_X_FORWARDED_FOR):
    anyone can send that header, and a forged one would dodge every per-IP limit.
    """
    if settings.USE_X_FORWARDED_FOR and forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return remote_addr or "unknown"


def request_client_ip(request) -> str:
    return client_ip(
        remote_addr=request.META.get("REMOTE_ADDR"), forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR")
    )


def scope_client_ip(scope) -> str:
    """The same for an ASGI scope (websockets)."""
    forwarded = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-forwarded-for"), None)
    client = scope.get("client") or (None, 0)
    return client_ip(remote_addr=client[0], forwarded_for=forwarded)
