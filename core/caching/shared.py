"""The second level: Django's default cache when it is shared by every process (Redis).

A per-process backend (``locmem://``, the default, or ``dummy://``) adds nothing to the
per-process store in ``core.caching.local``, so it is not used as a second level at all.
"""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

__all__ = ["shared_cache"]


def shared_cache() -> BaseCache | None:
    """The cache every process shares, or None when there is none."""
    cache = caches["default"]
    if isinstance(cache, LocMemCache | DummyCache):
        return None
    return cache
