"""Conditional requests, the one implementation for pages, API and exports: ETag and
Last-Modified on reads (304 when the client's copy is current), preconditions on writes.

Every conditional response of the site goes through ``respond`` (or ``evaluate`` and ``stamp``
when the body must be built first): the API's lists, records and exports
(``core.api.viewsets``, ``evidence.api.views``), the pages' downloads (``/studies/export.csv``,
``/references/export/<format>/``, ``/references/<n>/cite/<format>/``), the release files, the
Atom feeds, and the page cache's stored responses (``revalidate``). The RFC 9110 logic itself
is Django's public ``django.utils.cache.get_conditional_response``; this module only computes
the validators. The API's write side (a required If-Match, 428) is in ``core.api.preconditions``.

Why the validators are built as they are (issue 12: a study's ETag used to come from its own
``modified`` alone, so a changed outcome, therapy link or reference title left it unchanged and
integrators got 304 for data that had changed):

* **One record**: a strong ETag that is a digest of its serialized representation, the very
  data the client gets (``representation_etag``). Whatever the representation shows (nested
  outcomes, provenance, the reference's title, the therapies' slugs, what this reader may see)
  changes the ETag, and nothing else does; no list of "related tables" has to be kept in step
  with the serializers. The price is that a 304 still serializes the record (one record: cheap);
  it saves the transfer. Writes compare If-Match against the same digest computed under the
  row lock (``WriteViewSet.locked``).
* **A list or an export** (weak ETag, ``collection_etag``): serializing every listed record
  to answer 304 would cost what the 200 costs, so the validator is built from what changes
  whenever any shown row changes: the content generation (core/caching/generation.py, moved on by
  every save, delete and many-to-many change of a content model, including an Outcome save, a
  ``study.therapies.set()`` and a Reference title edit), the time of the last content change
  (below), the number of selected rows and their latest ``modified`` (rows leaving the
  selection through ``QuerySet.update()``), plus the path, the query string, the format and
  the reader's scope.
* **The last content change** (``last_content_change``): the latest ``history_date`` of every
  content model's history table, one query over indexed columns. It dates from when the
  generation lived in a per-process cache; the generation is now in the database and seen by
  every process, and the history date stays as the list's Last-Modified (below) and as a
  second check: every ORM save, delete and many-to-many change writes a history row, whichever
  process made it.
* **Last-Modified** of a list is the later of the rows' latest ``modified`` and the latest
  history date: it may move for a change the list does not show (a client then gets a 200 it
  could have been spared), never stay put for one it shows. Of a record, the latest
  ``modified`` among the record and the related rows loaded with it. A many-to-many link
  carries no timestamp, so a client that sends If-Modified-Since without If-None-Match may
  miss a changed link; the ETag never does, and RFC 9110 gives If-None-Match precedence.

Django's ``get_conditional_response`` applies RFC 9110's rules (If-Match, If-Unmodified-Since,
If-None-Match, If-Modified-Since, in that order of precedence).
"""

from __future__ import annotations

import functools
import hashlib
import json
from calendar import timegm
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connections
from django.db.models import Count, Max, QuerySet
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, parse_http_date_safe
from rest_framework.utils.encoders import JSONEncoder

from core.caching import generation
from core.caching.data import per_generation
from core.caching.generation import content_models
from core.workflow import is_curator

API_VERSION = "2"  # bumped when the way validators are computed changes
CACHE_CONTROL = "no-cache"  # caches may keep a copy but must revalidate it with us


def _digest(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _timestamp(moment: datetime | None) -> int | None:
    return timegm(moment.utctimetuple()) if moment else None


# -- one record -------------------------------------------------------------------------------


def representation_etag(data, media_type: str = "application/json") -> str:
    """The strong ETag of one representation: a digest of the serialized data the client gets
    (canonical JSON, keys sorted, so that it does not depend on rendering options)."""
    body = json.dumps(
        data, cls=JSONEncoder, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return '"' + _digest(API_VERSION, media_type, body) + '"'


def latest_modified(instance, depth: int = 2) -> datetime | None:
    """The latest ``modified`` of a record and of the related rows already loaded with it
    (``select_related`` and prefetches; no query is made)."""
    seen: list[datetime] = []

    def walk(obj, level):
        value = getattr(obj, "modified", None)
        if isinstance(value, datetime):
            seen.append(value)
        if level == 0:
            return
        state = getattr(obj, "_state", None)
        for related in (getattr(state, "fields_cache", {}) or {}).values():
            if related is not None:
                walk(related, level - 1)
        for rows in (getattr(obj, "_prefetched_objects_cache", {}) or {}).values():
            for row in rows:
                walk(row, level - 1)

    walk(instance, depth)
    return max(seen) if seen else None


# -- lists and exports ------------------------------------------------------------------------


@functools.cache
def _history_tables() -> tuple[str, ...]:
    # Fixed once the apps are loaded; read once per process: simple_history builds a new
    # manager class on every ``Model.history`` access (a tenth of an API list's time).
    return tuple(
        model.history.model._meta.db_table
        for model in content_models()
        if hasattr(model, "history")
    )


def last_content_change(using: str = "default") -> datetime | None:
    """When content last changed anywhere: the latest ``history_date`` of every content
    model's history table (each indexed), in one query.

    Raw SQL because it is one ``UNION ALL`` of maxima over a dozen tables, which the ORM cannot
    express as a single query.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    sql = " UNION ALL ".join(
        f"SELECT MAX({quote('history_date')}) FROM {quote(table)}" for table in _history_tables()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        dates = [_as_datetime(value) for (value,) in cursor.fetchall() if value is not None]
    return max(dates) if dates else None


def _as_datetime(value) -> datetime:
    # SQLite hands raw SQL datetimes back as text (stored in UTC), PostgreSQL as datetimes.
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def collection_state(queryset: QuerySet) -> tuple[int, datetime | None]:
    """How many records the queryset selects and when the listed data last changed.

    The count and the rows' latest ``modified`` are computed once per content generation for
    each distinct query (a full count of a large list); the last content change is read on every
    request, as it catches changes the generation misses (see the module docstring).
    """
    row = _count_and_latest(queryset.order_by())
    last = max(
        (d for d in (row["last"], last_content_change(queryset.db)) if d is not None), default=None
    )
    return row["n"], last


@per_generation
def _count_and_latest(queryset: QuerySet) -> dict:
    return queryset.aggregate(n=Count("pk"), last=Max("modified"))


def collection_etag(request, media_type: str, count: int, last: datetime | None) -> str:
    """The weak ETag of a list or export: changes whenever any row it shows may have changed
    (see the module docstring for why each part is there)."""
    # Whether the client may see unpublished entries (core.workflow.sees_unpublished): the
    # same list reads differently for curators and for everyone else.
    scope = "all" if is_curator(request.user) else "published"
    query = sorted(request.GET.lists())
    stamp = last.isoformat() if last else ""
    return (
        'W/"'
        + _digest(
            API_VERSION, request.path, query, media_type, scope, count, stamp, generation.current()
        )
        + '"'
    )


# -- evaluating the preconditions -------------------------------------------------------------


def evaluate(request, *, etag: str | None, last_modified: datetime | None, refuse=None):
    """A 304 (or 412) response to send instead of the body, or None to go on.

    ``request`` is Django's or DRF's. When ``refuse`` (an exception class) is given, a failed
    If-Match or If-Unmodified-Since raises it instead of returning Django's bare 412, so that
    the API answers its own error format.
    """
    # Django's function reads only request.method, .META and .path, which DRF's Request passes
    # through to the request it wraps.
    response = get_conditional_response(request, etag=etag, last_modified=_timestamp(last_modified))
    if response is None:
        return None
    if refuse is not None and response.status_code == 412:
        raise refuse()
    return stamp(response, etag=etag, last_modified=last_modified)


def respond(
    request,
    *,
    etag: str | None,
    last_modified: datetime | None,
    build: Callable[[], object],
    refuse=None,
):
    """The answer to a conditional GET: 304 when the client's copy is current, else the
    response ``build()`` makes, carrying the validators (see ``evaluate``)."""
    not_modified = evaluate(request, etag=etag, last_modified=last_modified, refuse=refuse)
    if not_modified is not None:
        return not_modified
    return stamp(build(), etag=etag, last_modified=last_modified)


# The request headers that can turn a stored response into a 304 or a 412.
CONDITIONAL_HEADERS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)


def revalidate(request, response):
    """A stored response (the page cache's) answered again: 304 when the client holds it."""
    meta = request.META
    if not any(header in meta for header in CONDITIONAL_HEADERS):
        return response  # nothing to compare: most requests, and every hit pays this check
    etag = response.get("ETag")
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    if etag is None and last_modified is None:
        return response
    return get_conditional_response(
        request, etag=etag, last_modified=last_modified, response=response
    )


def stamp(response, *, etag: str | None, last_modified: datetime | None):
    """Put the validators and caching headers on a response (also on a 304)."""
    if etag:
        response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = http_date(_timestamp(last_modified))
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ("Accept", "Authorization"))
    return response
