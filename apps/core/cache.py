"""The Redis cache's connections: one pool per process, not one per request."""

from __future__ import annotations

import threading
from typing import Any

from redis import ConnectionPool


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
