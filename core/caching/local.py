"""A per-process store of cached entries, bounded in bytes, least recently used out first.

Both caches keep their entries here first: a hit then costs no network round trip and no
copy of the bytes from Redis, only the generation check. An entry is served only for the
generation it was stored under (``core.caching.generation``), and only for ``seconds`` after it
was stored, as a shared entry would expire. gthread workers serve requests on several threads:
every access holds a lock.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

__all__ = ["LocalStore"]


class LocalStore:
    """Entries of at most ``limit()`` bytes in all, each tagged with its generation."""

    def __init__(self, limit):
        # A callable, so that the limit follows the settings (tests change them).
        self.limit = limit
        self._entries: OrderedDict[str, tuple[float, int, Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str, generation: int) -> Any | None:
        """The value stored under ``key`` for ``generation``, or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, stored_generation, value, _ = entry
            if stored_generation < generation or expires < time.monotonic():
                self._drop(key)  # old: it can never be served again
                return None
            if stored_generation != generation:
                # Newer than this request's generation (another thread stored it after a
                # change this request started before): not for this request, kept for the next.
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: str, generation: int, value: Any, size: int, seconds: int) -> None:
        limit = self.limit()
        if size > limit:
            return
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None and existing[1] > generation:
                return  # a request that started before a change must not replace newer work
            self._drop(key)
            self._entries[key] = (time.monotonic() + seconds, generation, value, size)
            self._bytes += size
            while self._bytes > limit:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        return self._bytes

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[3]
