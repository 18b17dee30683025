"""Each serving process learns the content generation from PostgreSQL's notifications.

``core.caching.generation`` reads the generation once per request. On PostgreSQL that read was
the whole cost of a page-cache hit that the page itself did not have: a round trip, and before
it Django's connection health check, another one (issue 16: a hit served at about half a
static file's speed). Instead, one thread per process keeps a connection that ``LISTEN``\\s on
``myoevidence_generation``, which a trigger on the generation's row notifies on every change
(core/migrations/0004), and holds the latest value in memory. A request reads that value: no
query at all.

Why this is still correct across processes:

* PostgreSQL delivers a notification when the writing transaction commits (never for one that
  rolls back), in commit order. A change committed by another process reaches this one within
  the time PostgreSQL takes to deliver it (well under a millisecond on one machine); until then a
  request may be served what was current an instant before the commit, never something newer
  stored as older: values are computed after the generation is read.
* The process that commits a change knows its new number at once (``committed``): its own next
  request never sees the old content.
* Every ``VERIFY_SECONDS`` the thread reads the value itself, so even a notification lost in a
  way PostgreSQL does not allow would be corrected within a second. The value is trusted only
  while the thread has heard from the database within ``2 × VERIFY_SECONDS``; a listener that is
  cut off, stuck or not yet connected gives ``None`` and requests read the database as before,
  until it has reconnected and read the value afresh.

Only PostgreSQL at its default isolation level (READ COMMITTED: each query sees every commit so
far, so a value computed after reading the generation is at least that new), and only inside
requests: management commands read the database. Turned off by
``MYOEVIDENCE_GENERATION_LISTEN=false`` (e.g. behind a pooler in transaction mode, where
``LISTEN`` does not work); SQLite always reads (in process, a read is cheap).

Written by hand: Django has no notification API, and the usual libraries for ``LISTEN`` are
asyncio consumers; this is one blocking ``select`` loop on psycopg2's documented
``poll()``/``notifies`` interface.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

__all__ = ["CHANNEL", "VERIFY_SECONDS", "enabled", "listener"]

logger = logging.getLogger(__name__)

CHANNEL = "myoevidence_generation"
VERIFY_SECONDS = 1.0
RETRY_SECONDS = 1.0


def enabled(using: str = DEFAULT_DB_ALIAS) -> bool:
    if using != DEFAULT_DB_ALIAS or not getattr(settings, "MYOEVIDENCE_GENERATION_LISTEN", False):
        return False
    database = settings.DATABASES[using]
    if database["ENGINE"] != "django.db.backends.postgresql":
        return False
    # READ COMMITTED is psycopg2's 1 and the server's default; a stricter level keeps one
    # snapshot per transaction, which could be older than the number heard.
    return database.get("OPTIONS", {}).get("isolation_level") in (None, 1)


class Listener:
    """The generation as last heard by this process's listening thread (see the module)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._value: int | None = None
        self._heard = 0.0  # time.monotonic() of the last word from the database
        self._stop = threading.Event()
        self._wake: tuple[int, int] | None = None  # a pipe that interrupts the wait (stop)
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()  # set while listening (tests wait on it)
        self.backend_pid: int | None = None  # the listening connection's server process

    def value(self) -> int | None:
        """The current generation, or None when it cannot be vouched for (read it instead)."""
        if self._pid != os.getpid():
            self._start()
        if time.monotonic() - self._heard > 2 * VERIFY_SECONDS:
            return None
        return self._value

    def committed(self, value: int) -> None:
        """This process committed ``value``: its next request must not see an older number."""
        with self._lock:
            if self._value is not None and value > self._value:
                self._value = value

    def stop(self) -> None:
        """End the thread (tests); the next ``value()`` starts another."""
        thread, wake = self._thread, self._wake
        self._stop.set()
        if wake is not None:
            os.write(wake[1], b"x")
        if thread is not None:
            thread.join(timeout=10)
        if wake is not None:
            os.close(wake[0])
            os.close(wake[1])
        with self._lock:
            self._pid, self._thread, self._wake = None, None, None
            self._value, self._heard = None, 0.0
        self.connected.clear()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child inherits no thread: start its own.
            self._pid, self._value, self._heard = os.getpid(), None, 0.0
            self._stop = threading.Event()
            self._wake = os.pipe()
            self._thread = threading.Thread(
                target=self._run,
                args=(self._stop, self._wake[0]),
                name="generation-listener",
                daemon=True,
            )
            self._thread.start()

    def _run(self, stop: threading.Event, wake: int) -> None:
        while not stop.is_set():
            wrapper = None
            try:
                # A connection of its own, configured as Django's (OPTIONS included), never
                # shared with requests and never returned to Django's per-thread handling.
                wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
                wrapper.ensure_connection()
                self._listen(wrapper, stop, wake)
            except Exception:
                # Said once when a connection is lost, not every second while the database
                # stays away (requests meanwhile read it, and say so themselves).
                if not stop.is_set() and self.connected.is_set():
                    logger.warning(
                        "Generation listener lost its connection; requests read the "
                        "generation until it is back.",
                        exc_info=True,
                    )
            finally:
                self.connected.clear()
                with self._lock:
                    self._value, self._heard = None, 0.0
                if wrapper is not None:
                    try:
                        wrapper.close()
                    except Exception:
                        pass
            stop.wait(RETRY_SECONDS)

    def _listen(self, wrapper, stop: threading.Event, wake: int) -> None:
        from core.caching import generation  # which imports this module

        raw = wrapper.connection
        raw.autocommit = True
        select_sql = generation.select_sql(wrapper)
        with raw.cursor() as cursor:
            # Listen first, then read: a change committed in between is both read and heard.
            cursor.execute(f"LISTEN {CHANNEL}")
            self._set(self._read(cursor, select_sql))
            self.backend_pid = raw.get_backend_pid()
            self.connected.set()
            due = time.monotonic() + VERIFY_SECONDS
            while not stop.is_set():
                wait = due - time.monotonic()
                if wait <= 0:
                    self._set(self._read(cursor, select_sql))
                    due = time.monotonic() + VERIFY_SECONDS
                    continue
                readable, _, _ = select.select([raw, wake], [], [], wait)
                if raw not in readable:
                    continue
                raw.poll()
                heard = [int(note.payload) for note in raw.notifies if note.channel == CHANNEL]
                raw.notifies.clear()
                if heard:
                    self._see(max(heard))

    @staticmethod
    def _read(cursor, select_sql: str) -> int | None:
        from core.caching.generation import ROW

        cursor.execute(select_sql, [ROW])
        found = cursor.fetchone()
        return found[0] if found else None

    def _set(self, value: int | None) -> None:
        # What the database says now: exact, even lower (a database flushed and filled again).
        with self._lock:
            self._value, self._heard = value, time.monotonic()

    def _see(self, value: int) -> None:
        # Notifications come in commit order; a commit of this process may already be ahead.
        with self._lock:
            if self._value is None or value > self._value:
                self._value = value
            self._heard = time.monotonic()


listener = Listener()
