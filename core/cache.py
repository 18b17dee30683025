"""The content generation, the whole-page cache and the per-generation data cache.

Every cached page is stored with the content *generation* it was rendered in, a number kept in
the shared cache (Redis in production). Any change to content bumps that number, once, when the
transaction commits; from then on every instance finds the pages it has stored older than the
current generation, treats them as misses and renders fresh ones. Nothing has to find and
delete the old entries: they are overwritten or expire on their own.

What bumps the generation:

* ``post_save``, ``post_delete`` and ``m2m_changed`` of every model of the content apps
  (references, therapies, evidence; not the history tables), connected by ``CoreConfig.ready``.
  That covers the admin, the API, the services, ``load_corpus`` (and so a restore) and the
  BibTeX importer.
* ``content_changed()``, called by code that writes without signals: ``bulk_create``, raw SQL,
  ``QuerySet.update()``. ``generate_synthetic`` calls it. The one ``update()`` outside tests,
  ``Reference.refresh_first_author``, runs in the same transaction as the author rows it reads,
  whose saves and deletes already bump.

The bump waits for the commit: bumping earlier would let another instance render the old rows
under the new generation and keep serving them. For the same reason a page is stored with the
generation read *before* it was rendered.

The data cache (``memoize``) keeps values that cost work proportional to the corpus, such as
the evidence matrix, a chart's aggregate or a list's total count, under the same generation:
each is computed once per content change, on one instance, and reused by every page that
needs it, also when the page itself cannot be cached (a reader's own filter combination, a
logged-in curator). Values computed from querysets are keyed by the querysets' SQL, which
includes the reader's visibility (published only, or everything for staff).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.core.exceptions import DisallowedHost, EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Count
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils.cache import cc_delim_re

logger = logging.getLogger(__name__)

GENERATION_KEY = "content-generation"
CONTENT_APPS = ("references", "therapies", "evidence")
# Request headers a stored page never depends on: requests carrying them are not served from
# (or stored in) the cache at all, see ``is_cacheable_request``.
UNKEYED_VARY = {"cookie", "authorization"}


# -- the generation ---------------------------------------------------------------------------


def _fresh_generation() -> int:
    # Random rather than 1: if the key is evicted or the cache cleared, a restart from 1 could
    # meet pages stored under an old 1, 2, 3...
    return secrets.randbits(48)


def generation() -> int:
    """The current content generation (created on first use)."""
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, _fresh_generation(), timeout=None)
        value = cache.get(GENERATION_KEY)
    return value


def bump() -> None:
    """Start a new generation now: every cached page, on every instance, becomes a miss."""
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # the key is gone (evicted, cleared): any fresh number will do
            cache.set(GENERATION_KEY, _fresh_generation(), timeout=None)
    except Exception:  # a cache outage must not fail the write that has already committed
        logger.exception(
            "Could not bump the content generation: cached pages may stay stale "
            "for up to %s seconds.",
            page_cache_seconds(),
        )


class _PendingBump:
    """The on-commit callback of one transaction; it knows whether it has run."""

    done = False

    def __call__(self) -> None:
        self.done = True
        bump()


def content_changed(using: str = DEFAULT_DB_ALIAS) -> None:
    """Bump the generation when the current transaction commits (at once outside one).

    One bump per transaction however many rows it writes: ``load_corpus`` saves hundreds.
    """
    connection = transaction.get_connection(using)
    if connection.in_atomic_block and _bump_pending(connection):
        return
    transaction.on_commit(_PendingBump(), using=using, robust=True)


def _bump_pending(connection) -> bool:
    # Django keeps the callbacks as (savepoint ids, func, robust) and drops those of a rolled
    # back savepoint, so a bump registered there is correctly registered again afterwards.
    return any(
        isinstance(entry[1], _PendingBump) and not entry[1].done
        for entry in connection.run_on_commit
    )


def _on_save_or_delete(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    content_changed(using)


def _on_m2m_changed(sender, action, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    if action.startswith("post_"):
        content_changed(using)


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
    """Bump on every content write. Receivers are connected per model (not for every sender),
    so that other models keep Django's fast bulk delete."""
    for model in content_models():
        uid = f"core.cache:{model._meta.label}"
        post_save.connect(_on_save_or_delete, sender=model, dispatch_uid=uid)
        post_delete.connect(_on_save_or_delete, sender=model, dispatch_uid=uid)
        for field in model._meta.local_many_to_many:
            m2m_changed.connect(
                _on_m2m_changed,
                sender=field.remote_field.through,
                dispatch_uid=f"{uid}.{field.name}",
            )


# -- the data cache ---------------------------------------------------------------------------

T = TypeVar("T")


def data_cache_seconds() -> int:
    return int(getattr(settings, "MYOEVIDENCE_DATA_CACHE_SECONDS", 0) or 0)


def queryset_key(*querysets) -> str | None:
    """A digest of the querysets' SQL and parameters: within one generation, equal SQL gives
    equal results. None for a queryset that can match nothing (it has no SQL)."""
    parts = []
    for queryset in querysets:
        try:
            sql, params = queryset.query.sql_with_params()
        except EmptyResultSet:
            return None
        parts.append(f"{queryset.db}|{sql}|{params!r}")
    return _digest("\n".join(parts))


def memoize(name: str, key: str | None, compute: Callable[[], T]) -> T:
    """``compute()``, or its value from the current generation if one instance has computed it.

    Computed directly (neither read nor stored) when the data cache is off, when ``key`` is
    None, when the cache is unreachable, and inside a transaction that has changed content
    and not committed yet: its own writes must show, and a rollback must leave nothing behind.
    """
    seconds = data_cache_seconds()
    if seconds <= 0 or key is None or _uncommitted_changes():
        return compute()
    cache_key = f"data:{name}:{key}"
    try:
        found = cache.get_many([GENERATION_KEY, cache_key])
        current = found.get(GENERATION_KEY)
        stored = found.get(cache_key)
        if current is not None and stored is not None and stored[0] == current:
            return stored[1]
        if current is None:
            current = generation()
    except Exception:
        logger.warning("Data cache unavailable; computing %s.", name, exc_info=True)
        return compute()
    # The generation was read before computing: a change committed meanwhile makes this
    # value old at once, as with pages.
    value = compute()
    try:
        cache.set(cache_key, (current, value), timeout=seconds)
    except Exception:
        logger.warning("Data cache unavailable; %s not stored.", name, exc_info=True)
    return value


def count_by(queryset, field: str) -> dict:
    """How many of the queryset's rows go with each value of ``field`` (a column, or a
    many-to-many relation: one row per link), once per content generation."""
    rows = queryset.order_by().values_list(field).annotate(n=Count("pk"))
    return memoize("count-by", queryset_key(rows), lambda: dict(rows))


def _uncommitted_changes(using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = transaction.get_connection(using)
    return connection.in_atomic_block and _bump_pending(connection)


# -- the page cache ---------------------------------------------------------------------------


def page_cache_seconds() -> int:
    return int(getattr(settings, "MYOEVIDENCE_PAGE_CACHE_SECONDS", 0) or 0)


def is_cacheable_request(request: HttpRequest) -> bool:
    """Anonymous reads only: a session, a flash message or a token may change the page."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.path.startswith(tuple(getattr(settings, "MYOEVIDENCE_PAGE_CACHE_EXCLUDE", ()))):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    cookies = request.COOKIES
    if (
        settings.SESSION_COOKIE_NAME in cookies
        or getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in cookies
    ):
        return False
    try:
        request.get_host()  # part of the key; a host we do not serve gets Django's 400
    except DisallowedHost:
        return False
    return True


def is_cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    """A complete 200 that is the same for every anonymous reader."""
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies:  # e.g. a CSRF token: personal, never shared
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if "private" in cache_control or "no-store" in cache_control:
        return False
    return "*" not in _vary(response)


def _vary(response: HttpResponse) -> list[str]:
    header = response.get("Vary", "")
    return [h.strip().lower() for h in cc_delim_re.split(header) if h.strip()] if header else []


def _digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _url_digest(request: HttpRequest) -> str:
    # Scheme and host too: API responses contain absolute links.
    return _digest(f"{request.scheme}://{request.get_host()}{request.get_full_path()}")


def _vary_digest(request: HttpRequest, headers: list[str]) -> str:
    values = [request.META.get("HTTP_" + h.upper().replace("-", "_"), "") for h in headers]
    return _digest("|".join(f"{h}={v}" for h, v in zip(headers, values, strict=True)))


@dataclass
class Lookup:
    """What a request found in the cache; ``page`` is None on a miss."""

    generation: int
    url: str
    page: HttpResponse | None = None


# Which request headers each URL's page varies on (Accept for the API), learnt from stored
# responses and kept in the cache; remembered here too, so that a hit is one round trip.
_vary_memo: dict[str, list[str]] = {}
VARY_MEMO_LIMIT = 10_000


def _page_key(url: str, request: HttpRequest, headers: list[str]) -> str:
    return f"page:{url}:{_vary_digest(request, headers)}"


def lookup(request: HttpRequest) -> Lookup:
    """The stored page for this request if it belongs to the current generation.

    One round trip: the generation alone when this process holds a copy of the page (see
    ``LocalPages``), else the generation and the page together; two the first time a process
    meets a URL (it learns what the URL's page varies on).
    """
    url = _url_digest(request)
    headers = _vary_memo.get(url)
    if headers is None:
        found = cache.get_many([GENERATION_KEY, f"page-vary:{url}"])
        headers = found.get(f"page-vary:{url}")
        current = found.get(GENERATION_KEY)
        if headers is None or current is None:
            return Lookup(generation=current if current is not None else generation(), url=url)
        _remember(url, headers)
        key = _page_key(url, request, headers)
        stored = cache.get(key)
    else:
        key = _page_key(url, request, headers)
        local = local_pages.get(key)
        if local is not None:
            current = cache.get(GENERATION_KEY)
            if current is None:
                return Lookup(generation=generation(), url=url)
            if local[0] == current:
                return _served(local, url)
            local_pages.discard(key)  # an old copy: perhaps the shared cache has a new one
            stored = cache.get(key)
        else:
            found = cache.get_many([GENERATION_KEY, key])
            current, stored = found.get(GENERATION_KEY), found.get(key)
            if current is None:
                return Lookup(generation=generation(), url=url)
    # A page stored under an older generation is a miss: content changed since.
    if stored is None or stored[0] != current:
        return Lookup(generation=current, url=url)
    local_pages.put(key, stored)
    return _served(stored, url)


def _served(stored: tuple, url: str) -> Lookup:
    """A hit: the stored page (of the current generation) as a response."""
    generation_, status, header_items, content = stored
    page = HttpResponse(content, status=status)
    for name, value in header_items:
        page[name] = value
    return Lookup(generation=generation_, url=url, page=page)


def store(request: HttpRequest, found: Lookup, response: HttpResponse, seconds: int) -> None:
    """Keep the page with the generation read *before* rendering: if content changed while
    the page was being built, it is stored as old and never served."""
    headers = sorted(h for h in _vary(response) if h not in UNKEYED_VARY)
    header_items = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
    key = _page_key(found.url, request, headers)
    stored = (found.generation, response.status_code, header_items, response.content)
    cache.set_many({f"page-vary:{found.url}": headers, key: stored}, timeout=seconds)
    _remember(found.url, headers)
    local_pages.put(key, stored)


class LocalPages:
    """This process's copies of pages it has served from the shared cache, most recently
    used first, up to ``MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES`` of content.

    A copy is only served after the current generation has been read from the shared cache
    and matches the copy's own, exactly as for a page read from there: it saves moving the
    page's bytes (often 50-100 kB) from Redis on every hit, not the freshness check. A copy
    is also dropped ``MYOEVIDENCE_PAGE_CACHE_SECONDS`` after it was made, as the shared entry
    would be. gthread workers serve requests on several threads: every access holds a lock.
    """

    def __init__(self):
        self._entries: OrderedDict[str, tuple[float, tuple]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def limit() -> int:
        return int(getattr(settings, "MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES", 0) or 0)

    def get(self, key: str):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, stored: tuple) -> None:
        size = len(stored[3])
        limit = self.limit()
        if size > limit:
            return
        with self._lock:
            self._drop(key)
            self._entries[key] = (time.monotonic() + page_cache_seconds(), stored)
            self._bytes += size
            while self._bytes > limit:
                self._drop(next(iter(self._entries)))

    def discard(self, key: str) -> None:
        with self._lock:
            self._drop(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[1][3])


local_pages = LocalPages()


def _remember(url: str, headers: list[str]) -> None:
    if len(_vary_memo) >= VARY_MEMO_LIMIT:
        _vary_memo.clear()
    _vary_memo[url] = headers


# -- the Redis backend ------------------------------------------------------------------------


class _ReusingRedisClient(RedisCacheClient):
    # Django builds a new redis.Redis object for every operation; since redis-py 5 that
    # costs more than the round trip itself (it builds its table of response callbacks).
    # One client per connection pool is safe: clients are thread-safe, and Django keeps a
    # backend instance per thread anyway.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache backend (same options and behaviour), minus a per-call cost."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusingRedisClient
