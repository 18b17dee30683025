"""One computation of a cached value at a time per process; the others asking for it wait.

Right after a content change every cached value is old. Before this, each of a worker's
threads that asked for the same value before the first had stored it computed it too: four
threads computing the evidence matrix at once (4 s at +100k studies) on two cores all waited
about four times as long, and so did every other request of the process. Now the first thread
computes the value (it leads) and the others wait for it and unpickle their own copy.

A thread that is leading a computation never waits for another's: it computes what it needs
itself. Only threads that lead nothing wait, so no two threads can wait for each other (a
thread leading "A" that needs "B" while another leads "B" and needs "A"). A waiter stops
waiting after ``wait_seconds`` and computes the value itself, as it does when the leader
failed. Across processes nothing waits: each process computes its own copy, or finds the one
another stored in the shared cache.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["Flights"]


class _Flight:
    __slots__ = ("done", "pickled")

    def __init__(self):
        self.done = threading.Event()
        self.pickled: bytes | None = None


class Flights:
    """``run(key, compute)``: ``compute()`` returns ``(value, pickled value)``."""

    def __init__(self, wait_seconds: float = 60):
        self.wait_seconds = wait_seconds
        self._flights: dict[Hashable, _Flight] = {}
        self._lock = threading.Lock()
        self._leading = threading.local()

    def run(self, key: Hashable, compute: Callable[[], tuple[Any, bytes]]) -> Any:
        """The value for ``key``: computed here, or by the thread of this process already
        computing it (then unpickled from its result)."""
        leading = getattr(self._leading, "count", 0)
        with self._lock:
            flight = self._flights.get(key)
            lead = flight is None
            if lead:
                flight = self._flights[key] = _Flight()
        if not lead:
            if leading or not flight.done.wait(self.wait_seconds) or flight.pickled is None:
                return compute()[0]
            return pickle.loads(flight.pickled)
        self._leading.count = leading + 1
        try:
            value, flight.pickled = compute()
            return value
        finally:
            self._leading.count = leading
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()

    def __len__(self) -> int:
        """Computations in progress."""
        return len(self._flights)
