"""Fixed-window rate limits in the cache (Redis when configured): per visitor and per IP address."""

from __future__ import annotations

import time

from django.core.cache import cache

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'20/m' → (20, 60)."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip().lower()[:1]]


def rate_limit_hit(key: str, rate: str) -> int | None:
    """Count one hit; return the seconds to wait when over the limit, else None."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    cache_key = f"ratelimit:{key}:{window}"
    # add() then incr(): atomic in Redis and in the local-memory cache alike.
    cache.add(cache_key, 0, timeout=period + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=period + 1)
        count = 1
    if count > limit:
        return max(1, period - int(time.time()) % period)
    return None
