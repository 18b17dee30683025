"""The content generation: one number that changes whenever published content may have.

Every cached page and value is stored with the generation it was computed under and trusted
only while that generation is current, on every process; nothing has to find and delete old
entries.

Where it lives, and why there: a one-row table (``core.models.ContentGeneration``). A
transaction that changes content adds one to it *inside the same transaction*, so any reader,
in any process, sees the new number exactly when it sees the new content: there is no moment
after the commit when the content is new and the number old, no callback that a crash between
commit and bump could lose, and no second system (Redis) that must be up and shared for
invalidation to reach every process. That is what lets the default configuration without Redis
cache at all: each process keeps its own copies (``core.caching.local``) and checks them
against this number.

The price is that content-writing transactions queue on that one row from their first content
write until they commit (readers never wait: they read the committed value). For a curated
corpus written by a few people and a loader that is acceptable; on PostgreSQL two writers that
also lock the same content rows in opposite orders can deadlock, which PostgreSQL detects and
resolves by failing one of them with an error (nothing is half-written; the write can be
repeated).

Reading it costs one indexed query; a request reads it once (``current``), however many cache
lookups it makes; on PostgreSQL a serving process does not even ask, it hears every change
(``core.caching.listener``), and a page or value is stored with the generation read *before* it was
computed: a change committed meanwhile leaves it stored as old, never served.

What moves it on:

* ``post_save``, ``post_delete`` and ``m2m_changed`` of every model of the content apps
  (references, therapies, evidence, releases; not the history tables), connected by
  ``CoreConfig.ready``: the admin, the API, the services, ``load_corpus``, the importers and
  making or installing a release.
* ``content_changed()``, called by code that writes without signals (``bulk_create``, raw SQL,
  ``QuerySet.update()``), e.g. ``generate_synthetic``.

Once per transaction, however many rows it writes. Inside a transaction that has changed
content and not committed, nothing is read from or stored in the caches
(``uncommitted_changes``): its own writes must show, and if it rolls back, the number it used
will be used again by the next transaction that commits.
"""

from __future__ import annotations

import secrets

from asgiref.local import Local
from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from core.caching import refresh
from core.caching.listener import enabled as listen_enabled
from core.caching.listener import listener

__all__ = [
    "CONTENT_APPS",
    "connect_signals",
    "content_changed",
    "content_models",
    "current",
    "forget",
    "reset",
    "uncommitted_changes",
]

# Releases count: every page's footer names the latest release.
CONTENT_APPS = ("references", "therapies", "evidence", "releases")
ROW = 1  # the primary key of the one row

# The generation read in this request (or None): thread- and asyncio-task-local, as Django's
# database connections are.
_request = Local()


def _model():
    from core.models import ContentGeneration

    return ContentGeneration


def current(using: str = DEFAULT_DB_ALIAS) -> int:
    """The current generation: read once per request (outside one, on every call)."""
    memo = getattr(_request, "generation", None)
    if memo is not None:
        return memo
    if not getattr(_request, "active", False):
        return _read(using)
    # A value read after this transaction's own uncommitted bump may be rolled back and
    # reused: never remembered, and the number heard from other processes is older than it.
    if uncommitted_changes(using):
        return _read(using)
    # On PostgreSQL the serving process hears every change (core.caching.listener): no query.
    heard = listener.value() if listen_enabled(using) else None
    value = heard if heard is not None else _read(using)
    _request.generation = value
    return value


def forget() -> None:
    """Read the generation afresh on the next ``current()`` (after a commit, between tests)."""
    _request.generation = None


def reset() -> None:
    """Forget the generation and any request cycle left open (tests: a streamed response
    that was never read to its end never sends ``request_finished``)."""
    _request_finished()


def _names(connection) -> tuple[str, str, str]:
    """The generation's table, value column and key column, quoted for ``connection``."""
    opts = _model()._meta
    quote = connection.ops.quote_name
    return quote(opts.db_table), quote(opts.get_field("value").column), quote(opts.pk.column)


def select_sql(connection) -> str:
    """The statement that reads the generation (its one parameter: ``ROW``), for requests
    and for the listening thread (``core.caching.listener``). Plain SQL on the primary key:
    every request ran it, and building the same query through the ORM cost several times
    what the database spends answering it."""
    table, column, key = _names(connection)
    return f"SELECT {column} FROM {table} WHERE {key} = %s"


def _read(using: str) -> int:
    connection = transaction.get_connection(using)
    with connection.cursor() as cursor:
        cursor.execute(select_sql(connection), [ROW])
        found = cursor.fetchone()
    if found:
        return found[0]
    _create(using)
    return _model().objects.using(using).get(pk=ROW).value


def _create(using: str) -> None:
    # A random start rather than 1: a new or flushed database must not meet pages and values
    # a shared cache still holds for the small numbers of an earlier one. Two processes may
    # race to create the row: the loser's insert is ignored, and both read the winner's.
    model = _model()
    model.objects.using(using).bulk_create(
        [model(pk=ROW, value=secrets.randbits(48))], ignore_conflicts=True
    )


def _increment(using: str) -> int | None:
    """Add one, in the current transaction; the new number (None when the row was missing
    and has just been created with a random one)."""
    connection = transaction.get_connection(using)
    table, column, key = _names(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = {column} + 1 WHERE {key} = %s RETURNING {column}",
            [ROW],
        )
        found = cursor.fetchone()
    if found:
        return found[0]
    _create(using)
    return None


class _Bumped:
    """Marks a transaction that has moved the generation on; runs when it commits."""

    done = False

    def __init__(self, value: int | None = None) -> None:
        self.value = value

    def __call__(self) -> None:
        self.done = True
        _committed(self.value)


def _committed(value: int | None) -> None:
    forget()  # this request's remembered number is now old
    refresh.note_changed()  # its pages are worth computing again before readers ask
    if value is not None:
        listener.committed(value)  # and so is the one this process last heard


def content_changed(using: str = DEFAULT_DB_ALIAS) -> None:
    """Move the generation on, in the current transaction (at once outside one)."""
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        _committed(_increment(using))
        return
    if _bump_pending(connection):
        return
    transaction.on_commit(_Bumped(_increment(using)), using=using)


def _bump_pending(connection) -> bool:
    # Django keeps on-commit callbacks as (savepoint ids, func, robust) and drops those of a
    # rolled-back savepoint, exactly as the database drops that savepoint's increment: the
    # marker is there if and only if this transaction's increment is.
    return any(
        isinstance(entry[1], _Bumped) and not entry[1].done for entry in connection.run_on_commit
    )


def uncommitted_changes(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Has the current transaction changed content that it has not committed yet?"""
    connection = transaction.get_connection(using)
    return connection.in_atomic_block and _bump_pending(connection)


def _on_save_or_delete(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    content_changed(using)


def _on_m2m_changed(sender, action, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    if action.startswith("post_"):
        content_changed(using)


def _request_started(**kwargs) -> None:
    _request.active = True
    _request.generation = None


def _request_finished(**kwargs) -> None:
    _request.active = False
    _request.generation = None


def content_models() -> list[type]:
    """The models whose rows appear on public pages (history tables excluded)."""
    from simple_history.models import HistoricalChanges

    return [
        model
        for label in CONTENT_APPS
        for model in apps.get_app_config(label).get_models()
        if not issubclass(model, HistoricalChanges)
    ]


def connect_signals() -> None:
    """Move the generation on at every content write, and read it once per request.

    Receivers are connected per model (not for every sender), so that other models keep
    Django's fast bulk delete."""
    for model in content_models():
        uid = f"core.caching:{model._meta.label}"
        post_save.connect(_on_save_or_delete, sender=model, dispatch_uid=uid)
        post_delete.connect(_on_save_or_delete, sender=model, dispatch_uid=uid)
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                _on_m2m_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"{uid}.{field.name}",
            )
    request_started.connect(_request_started, dispatch_uid="core.caching.request_started")
    request_finished.connect(_request_finished, dispatch_uid="core.caching.request_finished")
