"""Streaming many model instances with flat memory.

``QuerySet.iterator(chunk_size=...)`` with ``prefetch_related`` reads one chunk at a time, but
each prefetched child caches its parent (Django sets the reverse side so that ``arm.study``
needs no query): every row is a reference cycle. Reference counting cannot free a cycle; only
a full garbage collection can, and those come rarely once a process holds many objects. The
chunks already written then pile up as garbage, and a streamed export's peak memory grows with
the corpus (measured by bench/export_memory.py: the full FHIR Bundle's peak went from 16 MB at
1,000 to 26 MB at 10,000 synthetic studies). Breaking the cycles once a row is written lets
reference counting free each chunk as soon as the iterator lets go of it.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, models, transaction
from django.db.models import Func, Subquery, TextField
from django.db.models.expressions import RawSQL
from django.db.models.sql.constants import MULTI

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


def forget(instance: models.Model) -> None:
    """Drop the caches of related objects (prefetched and selected) of ``instance`` and of
    everything reachable through them, so that nothing refers back to it."""
    seen: set[int] = set()
    pending = [instance]
    while pending:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        prefetched = getattr(obj, "_prefetched_objects_cache", None)
        if prefetched:
            for related in prefetched.values():
                pending.extend(getattr(related, "_result_cache", None) or ())
            obj._prefetched_objects_cache = {}
        fields_cache = obj._state.fields_cache
        pending.extend(value for value in fields_cache.values() if isinstance(value, models.Model))
        fields_cache.clear()


def one_at_a_time(rows: Iterable[M]) -> Iterator[M]:
    """Yield each row; once the consumer asks for the next, the previous one is forgotten
    (use it only while it is the current row)."""
    for row in rows:
        yield row
        forget(row)


def value_batches(rows: models.QuerySet, fields: Sequence[str], size: int) -> Iterator[list[dict]]:
    """The rows of ``rows`` as dicts of ``fields``, in its order, as lists of ``size``
    (``row_batches``). A batched export reads each batch's related rows by the keys of the
    batch (``keys_in``)."""
    for batch in row_batches(rows, fields, size):
        yield [dict(zip(fields, row, strict=True)) for row in batch]


def row_batches(rows: models.QuerySet, fields: Sequence[str], size: int) -> Iterator[list[tuple]]:
    """The rows of ``rows`` as tuples of ``fields``, in its order, as lists of ``size``: read
    through one cursor a chunk at a time (a server-side cursor on PostgreSQL), so that not even
    the list of every key is held at once, whatever the number of rows.

    On PostgreSQL the cursor is read in a transaction (one of its own when there is none:
    outside one, Django declares the cursor ``WITH HOLD``, and PostgreSQL then computes every
    row before it sends the first), and the next batch is fetched by a helper thread while
    the caller works on this one (``_fetched_ahead``): PostgreSQL computes rows on the other
    core instead of waiting to be asked. Elsewhere (SQLite runs in this process: nothing to
    overlap) the batches are read here, through Django's own iterator.
    """
    values = rows.prefetch_related(None).values_list(*fields)
    connection = connections[values.db]
    if connection.vendor != "postgresql":
        batch: list[tuple] = []
        for row in values.iterator(chunk_size=size):
            batch.append(row)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch
        return
    # What Django's values_list iteration does (ValuesListIterable), with the fetching handed
    # to the helper: the cursor and its fetches are Django's (its errors, its cursor wrapper),
    # the values' converters are applied here.
    compiler = values.query.get_compiler(using=values.db)
    # A transaction when there is none (inside one, the cursor is declared without hold).
    within = nullcontext() if connection.in_atomic_block else transaction.atomic(using=values.db)
    with within:
        fetched = compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=size)
        try:
            for raw in _fetched_ahead(fetched):
                yield list(compiler.results_iter(results=[raw], tuple_expected=True))
        finally:
            close = getattr(fetched, "close", None)
            if close is not None:  # Django's cursor_iter: closing it closes the cursor
                close()


# Batches the helper thread may hold ready beyond the one being read.
_AHEAD = 1
# Rows per batch for the full exports. The helper holds a batch besides the one being written
# and the one it is fetching: at 1,000 the exports' peak memory grew from +1,000 to +10,000
# studies (bench/export_memory.py); at 250 it is the same at both, and no slower.
BATCH_ROWS = 250


def _fetched_ahead(batches: Iterator[T]) -> Iterator[T]:
    """``batches``, each read by a helper thread while the caller works on the one before.

    Written by hand: the standard library's thread and queue are all it takes, and what
    matters is specific to a database cursor: the helper only fetches (psycopg2 lets go of
    Python's lock while it waits for PostgreSQL), its error is raised here, and when the
    caller stops early (a client that went away) the helper stops within a poll and is
    joined before the cursor is closed, so the connection is never used by two threads once
    this returns. Measured in bench/RESULTS.md (thirteenth round)."""
    handoff: queue.Queue = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for batch in batches:
                if not put((batch, None)):
                    return
            put((_DONE, None))
        except BaseException as error:  # raised again in the caller's thread
            put((None, error))

    helper = threading.Thread(target=fetch, name="myoevidence-read-ahead", daemon=True)
    helper.start()
    try:
        while True:
            batch, error = handoff.get()
            if error is not None:
                raise error
            if batch is _DONE:
                return
            yield batch
    finally:
        stop.set()
        helper.join()


_DONE: Any = object()


class RowsAsJSON(Subquery):
    """Each row's related rows as one column: ``queryset`` (filtered on ``OuterRef`` and
    ordered) read as JSON text, a list with a list of ``fields`` per related row, in the
    queryset's order (``[]`` when there are none).

    A batched export read each table's related rows with a query per batch, whose rows
    PostgreSQL looks up scattered over the table while Python waits; as columns of the
    batch's own query they are looked up while the batch before is written
    (``row_batches``), and decoded by ``json.loads`` rather than built row by row.

    Written by hand: Django builds the inner query (joins, order) but has no aggregate into
    JSON that both PostgreSQL and SQLite run. PostgreSQL keeps an ``ARRAY(subquery)`` in the
    subquery's order. SQLite (3.40 here) has no ``ORDER BY`` in an aggregate; the rows come
    from an ordered subquery, which SQLite does not flatten into an aggregate query, so they
    are aggregated in that order (the render-identity tests compare the exports' bytes on
    both databases).
    """

    output_field = TextField()
    TEMPLATES = {
        "postgresql": "array_to_json(ARRAY(%(subquery)s))::text",
        "sqlite": "(SELECT json_group_array(json(item)) FROM (%(subquery)s))",
    }

    def __init__(self, queryset: models.QuerySet, fields: Sequence[str]) -> None:
        super().__init__(queryset.values(item=_JSONRow(*fields)))

    def as_sql(self, compiler, connection, template=None, **extra_context):
        template = self.TEMPLATES.get(connection.vendor)
        if template is None:
            raise NotSupportedError(f"RowsAsJSON is not written for {connection.vendor}.")
        return super().as_sql(compiler, connection, template=template, **extra_context)


class _JSONRow(Func):
    """A row's values as a JSON array. Django's ``JSONArray`` builds ``jsonb`` on PostgreSQL,
    casting each value: a third slower to build, for a value that is only ever read as text."""

    function = "JSON_ARRAY"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSON_BUILD_ARRAY", **extra_context)


def json_rows(text: str | None) -> list[list]:
    """A ``RowsAsJSON`` column's rows."""
    return json.loads(text) if text and text != "[]" else []


def joined(chunks: Iterable[str], size: int = 64 * 1024, charset: str = "utf-8") -> Iterator[bytes]:
    """``chunks`` (text) encoded in ``charset`` and joined into pieces of about ``size`` bytes.

    A streamed response hands each item of its iterator to the server, which writes it to
    the socket at once (gunicorn: one ``send`` per item, with its own chunk header): a writer
    that yields one line or entry per row made a system call per row. Pieces of 64 KiB keep
    memory flat and the calls few."""
    pending: list[bytes] = []
    length = 0
    for chunk in chunks:
        data = chunk.encode(charset)
        pending.append(data)
        length += len(data)
        if length >= size:
            yield b"".join(pending)
            pending, length = [], 0
    if pending:
        yield b"".join(pending)


def keys_in(keys: list[int], using: str = DEFAULT_DB_ALIAS) -> RawSQL | list[int]:
    """A batch of integer keys as one query parameter, for ``filter(<key>__in=keys_in(batch))``.

    ``filter(study_id__in=batch)`` makes one parameter per key: Django prepares each and
    PostgreSQL plans a list of a thousand constants, for every table a batched export reads
    (a third of the studies CSV's time at scale on PostgreSQL). One array (PostgreSQL) or one
    JSON text (SQLite's ``json_each``) is the same set, passed and planned once.
    """
    keys = [int(key) for key in keys]
    if connections[using].vendor == "postgresql":
        # The array as its text form ('{1,2,3}'), cast by PostgreSQL: psycopg2 adapts a list
        # element by element, 0.75 ms for a thousand keys before PostgreSQL parses the result,
        # where this costs 0.3 ms in all (five tables per batch of the studies CSV). Only
        # integers go into the text (int() above).
        return RawSQL("SELECT unnest(%s::bigint[])", ["{" + ",".join(map(str, keys)) + "}"])
    if connections[using].vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(keys)])
    return keys  # pragma: no cover - another database: Django's own list
