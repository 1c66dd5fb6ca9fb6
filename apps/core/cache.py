"""The Redis cache's connections and clients: one pool and one client per process, not one per request."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis import ConnectionPool, Redis


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


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with one pool per server URL and one client per pool, for the whole process."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
        self._options = {"pool_class": SharedConnectionPool, **self._options}  # a copy: settings stay as written
