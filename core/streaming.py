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
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models.expressions import RawSQL

M = TypeVar("M", bound=models.Model)


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
    """The rows of ``rows`` as dicts of ``fields``, in its order, as lists of ``size``: read
    through one cursor a chunk at a time (a server-side cursor on PostgreSQL), so that not even
    the list of every key is held at once, whatever the number of rows. A batched export reads
    each batch's related rows by the keys of the batch (``keys_in``)."""
    batch: list[dict] = []
    for row in rows.prefetch_related(None).values(*fields).iterator(chunk_size=size):
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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
