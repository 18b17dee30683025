"""The second level: Django's default cache when it is shared by every process (Redis).

A per-process backend (``locmem://``, the default, or ``dummy://``) adds nothing to the
per-process store in ``core.caching.local``, so it is not used as a second level at all.
"""

from __future__ import annotations

import threading
from typing import ClassVar

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

__all__ = ["SharedConnectionPool", "shared_cache"]


def shared_cache() -> BaseCache | None:
    """The cache every process shares, or None when there is none."""
    cache = caches["default"]
    if isinstance(cache, LocMemCache | DummyCache):
        return None
    return cache


class SharedConnectionPool:
    """Django's Redis backend (``OPTIONS["pool_class"]``) with one connection pool per process
    and server, not one per thread.

    Django keeps a cache backend per thread (``caches`` is thread-local), and its Redis
    backend makes a pool per backend: every thread of a gthread worker then opened its own
    connections. Pages are served from the process's own store, so a thread may go thousands
    of requests without asking Redis; the first request after a content change, landing on
    such a thread, paid a new connection (TCP, the client's handshake: 1.2-1.9 ms, several
    times a read of 0.2 ms) before its first read. redis-py's pool is thread-safe and resets
    itself in a forked child, so the threads can share it. Written by hand: neither Django nor
    redis-py shares a pool between backend instances, and this is its few lines.
    """

    _pools: ClassVar[dict] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options):
        import redis  # imported only once a Redis cache is configured, as Django's backend does

        key = (url, tuple(sorted(options.items())))
        with cls._lock:
            pool = cls._pools.get(key)
            if pool is None:
                pool = cls._pools[key] = redis.ConnectionPool.from_url(url, **options)
            return pool
