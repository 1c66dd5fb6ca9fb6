"""The Redis cache's connections and clients: one pool and one client per process, not one per request."""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import ConnectionPool, Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Redis down or not answering: what a cache read or write meets then.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 10.0
_warned_at = 0.0


def unreachable_warn(what: str, exc: Exception) -> None:
    """Log that Redis is unreachable, at most once every WARN_EVERY_SECONDS per process (not per request)."""
    global _warned_at
    now = time.monotonic()
    if now - _warned_at >= WARN_EVERY_SECONDS:
        _warned_at = now
        logger.warning("Redis unreachable (%s): %s; serving without it.", exc.__class__.__name__, what)


class SharedConnectionPool(ConnectionPool):
    """A connection pool per server URL for the whole process (the Redis cache's `pool_class`).

    Django keeps a cache backend per async context (its cache handler is not thread-critical), and
    each backend makes its own pools: under ASGI every request, and every database_sync_to_async hop
    of a websocket turn, got a new pool and so a new TCP connection and handshake to Redis, about
    2 ms before a chat turn's first cache read. redis-py pools are thread-safe and start over in a
    forked child.
    """

    _shared: dict[tuple, ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ConnectionPool:
        key = (url, tuple(sorted((name, repr(value)) for name, value in kwargs.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
            return pool


class SharedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, handing out one redis-py client per connection pool.

    Django builds a new `redis.Redis` for every cache operation; its constructor costs ~70 µs (more
    on a cold thread), about half a round trip to Redis, paid by every rate-limit check and cache
    read of a chat turn. A redis-py client over a pool is safe to share between threads (each
    command takes a connection from the pool; a pipeline is its own object).
    """

    _clients: weakref.WeakKeyDictionary[ConnectionPool, Redis] = weakref.WeakKeyDictionary()
    _lock = threading.Lock()

    def get_client(self, key=None, *, write=False) -> Redis:
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            with self._lock:
                client = self._clients.get(pool)
                if client is None:
                    client = self._clients[pool] = self._client(connection_pool=pool)
        return client


def _tolerant(method: Callable, what: str, fallback: Callable) -> Callable:
    """`method`, answering `fallback(*args, **kwargs)` with a warning when Redis is unreachable."""

    @functools.wraps(method)
    def tolerant(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except UNREACHABLE as exc:
            unreachable_warn(what, exc)
            return fallback(*args, **kwargs)

    return tolerant


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with one pool per server URL and one client per pool, for the whole process.

    And a cache that Redis being down does not turn into 500s: a read misses (the caller reads the
    database), a write or an add does not happen (an add answers False: "someone has it", which is
    the safe answer for the one-time login links that use it), with a warning in the log. As
    Django's database and file caches, and django-redis's IGNORE_EXCEPTIONS, do.
    """

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
        self._options = {"pool_class": SharedConnectionPool, **self._options}  # a copy: settings stay as written

    get = _tolerant(DjangoRedisCache.get, "a cache read missed", lambda key, default=None, version=None: default)
    get_many = _tolerant(DjangoRedisCache.get_many, "a cache read missed", lambda *args, **kwargs: {})
    has_key = _tolerant(DjangoRedisCache.has_key, "a cache read missed", lambda *args, **kwargs: False)
    add = _tolerant(DjangoRedisCache.add, "a cache add did not happen", lambda *args, **kwargs: False)
    set = _tolerant(DjangoRedisCache.set, "a cache write did not happen", lambda *args, **kwargs: None)
    set_many = _tolerant(DjangoRedisCache.set_many, "a cache write did not happen", lambda data, *a, **k: list(data))
    touch = _tolerant(DjangoRedisCache.touch, "a cache write did not happen", lambda *args, **kwargs: False)
    delete = _tolerant(DjangoRedisCache.delete, "a cache delete did not happen", lambda *args, **kwargs: False)
    delete_many = _tolerant(DjangoRedisCache.delete_many, "a cache delete did not happen", lambda *args, **kwargs: None)
