"""Refresh ahead: after a request that changed content, render what readers were reading.

A content change makes every cached page, fragment and value old at once
(``core.caching.generation``), so without this the first reader of each page afterwards waits
for the whole page to be computed again: tens of milliseconds on the real corpus, seconds at
+100k studies (the evidence matrix). Here the request that committed the change pays instead,
before its response leaves: ``core.middleware.RefreshAheadMiddleware`` replays the anonymous
pages readers recently needed computed, through the whole middleware stack, as a reader with
no cookies. Their fragments and values (and whole pages, when the page cache is on) are then
stored under the new generation, in this process and in the shared cache (Redis) when there
is one, so the next reader on any process finds them.

What it does not change:

* correctness: nothing is served that would not have been. The replayed requests are
  anonymous and read the committed state, exactly as a reader's first request would; the
  generation rules decide what is served, as before;
* a reader who arrives while the pages are still being computed computes them as before
  (another process), or waits for the same computation (a thread of this process,
  ``core.caching.flights``);
* without Redis, only the process that made the change has the pages: the others compute
  their own on their first request, as before;
* changes made outside a request (``load_corpus``, the importers, a release) refresh nothing.

Which pages: the paths (with their query strings) whose anonymous GET computed a fragment or a
value, newest first, seen within ``MYOEVIDENCE_REFRESH_AHEAD_HOT_SECONDS``; at most
``MYOEVIDENCE_REFRESH_AHEAD_PAGES`` of them, and none started after
``MYOEVIDENCE_REFRESH_AHEAD_SECONDS`` (0 turns the whole thing off). A page only ever served
from the caches afterwards drops out after the hot period; its next reader computes it and
puts it back.

Written here because neither Django nor a library we use refreshes a cache ahead of its
readers for a change committed in the database.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import OrderedDict

from asgiref.local import Local
from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import cc_delim_re

from core.caching.shared import shared_cache

__all__ = [
    "HOT_KEY",
    "Cycle",
    "Page",
    "enabled",
    "forget_hot_pages",
    "hot_pages",
    "note_changed",
    "note_computed",
    "record",
    "refresh",
    "replaying",
    "request_cycle",
]

logger = logging.getLogger(__name__)

# The shared cache's copy of the hot pages (one entry, not per generation).
HOT_KEY = "refresh-ahead:hot"
# What of a reader's request may change the page beside its path, whatever the response says:
# kept and replayed (with the headers the response varies on, and the proxy's HTTPS header).
_REPLAYED = ("HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme")

# A page: its path, query string and the request headers replayed, as (name, value) pairs.
Page = tuple[str, str, tuple[tuple[str, str], ...]]

# What this request did: thread- and asyncio-task-local, as the generation's own memo.
_state = Local()


def _seconds() -> float:
    return float(getattr(settings, "MYOEVIDENCE_REFRESH_AHEAD_SECONDS", 0) or 0)


def _limit() -> int:
    return int(getattr(settings, "MYOEVIDENCE_REFRESH_AHEAD_PAGES", 0) or 0)


def _hot_seconds() -> float:
    return float(getattr(settings, "MYOEVIDENCE_REFRESH_AHEAD_HOT_SECONDS", 0) or 0)


def enabled() -> bool:
    """On when it has time and pages to spend, and there is a data cache to fill."""
    from core.caching.data import data_cache_seconds

    return _seconds() > 0 and _limit() > 0 and data_cache_seconds() > 0


class _HotPages:
    """This process's hot pages, newest last, bounded by ``MYOEVIDENCE_REFRESH_AHEAD_PAGES``."""

    def __init__(self) -> None:
        self._seen: OrderedDict[Page, float] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, page: Page, when: float) -> None:
        with self._lock:
            self._seen[page] = when
            self._seen.move_to_end(page)
            while len(self._seen) > max(_limit(), 1):
                self._seen.popitem(last=False)

    def discard(self, page: Page) -> None:
        with self._lock:
            self._seen.pop(page, None)

    def items(self) -> dict[Page, float]:
        with self._lock:
            return dict(self._seen)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


_hot = _HotPages()


# -- what a request did ------------------------------------------------------------------------


class Cycle:
    """What one request did: computed a fragment or value, committed a content change."""

    __slots__ = ("changed", "computed")

    def __init__(self) -> None:
        self.computed = False
        self.changed = False


def request_cycle() -> Cycle:
    """A request begins (``core.middleware.RefreshAheadMiddleware``)."""
    cycle = Cycle()
    _state.cycle = cycle
    return cycle


def note_computed() -> None:
    """A fragment or value was computed (``core.caching.data``)."""
    cycle = getattr(_state, "cycle", None)
    if cycle is not None:
        cycle.computed = True


def note_changed() -> None:
    """A content change was committed (``core.caching.generation``)."""
    cycle = getattr(_state, "cycle", None)
    if cycle is not None:
        cycle.changed = True


def replaying() -> bool:
    return getattr(_state, "replaying", False)


# -- the hot pages -------------------------------------------------------------------------------


def record(request: HttpRequest, response: HttpResponseBase) -> None:
    """Remember the page: an anonymous reader's GET that needed something computed."""
    if replaying() or not enabled():
        return
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return
    from core.caching.pages import is_cacheable_request  # anonymous, not excluded

    if not is_cacheable_request(request):
        return
    headers = tuple(
        (name, str(request.META[name])) for name in _replayed(response) if name in request.META
    )
    page: Page = (request.path_info, request.META.get("QUERY_STRING", ""), headers)
    now = time.time()
    _hot.add(page, now)
    shared = shared_cache()
    if shared is None:
        return
    try:  # a lost update between two processes only loses a hint
        pages = {**(shared.get(HOT_KEY) or {}), page: now}
        _share(shared, pages)
    except Exception:
        logger.warning("Shared cache unavailable; hot page not shared.", exc_info=True)


def _share(shared, pages: dict[Page, float]) -> None:
    """Store the newest of ``pages`` (at most the page limit) as the shared hot pages."""
    newest = sorted(pages.items(), key=lambda item: item[1])[-max(_limit(), 1) :]
    shared.set(HOT_KEY, dict(newest), timeout=max(int(_hot_seconds()), 1))


def _replayed(response: HttpResponseBase) -> tuple[str, ...]:
    """The request's META names that may change ``response``."""
    names = list(_REPLAYED)
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        names.append(proxy[0])
    for header in cc_delim_re.split(response.get("Vary", "")):
        header = header.strip()
        if header and header.lower() != "cookie":  # an anonymous reader sends none we keep
            names.append("HTTP_" + header.upper().replace("-", "_"))
    return tuple(dict.fromkeys(names))


def hot_pages() -> list[Page]:
    """The pages to refresh, newest first: this process's and the shared ones."""
    seen = _hot.items()
    shared = shared_cache()
    if shared is not None:
        try:
            for page, when in (shared.get(HOT_KEY) or {}).items():
                seen[page] = max(when, seen.get(page, 0.0))
        except Exception:
            logger.warning("Shared cache unavailable; refreshing this process's pages.")
    since = time.time() - _hot_seconds()
    newest = sorted((item for item in seen.items() if item[1] >= since), key=lambda i: -i[1])
    return [page for page, _ in newest[: _limit()]]


def _forget(page: Page) -> None:
    _hot.discard(page)
    shared = shared_cache()
    if shared is None:
        return
    try:
        pages = shared.get(HOT_KEY) or {}
        if pages.pop(page, None) is not None:
            _share(shared, pages)
    except Exception:
        logger.warning("Shared cache unavailable; hot page not forgotten.", exc_info=True)


def forget_hot_pages() -> None:
    """Tests: this process's hot pages forgotten."""
    _hot.clear()


# -- the refresh ---------------------------------------------------------------------------------


def _request_for(page: Page) -> WSGIRequest:
    path, query, headers = page
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": settings.FORCE_SCRIPT_NAME or "",
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        **dict(headers),
    }
    return WSGIRequest(environ)


def refresh() -> int:
    """Render the hot pages under the current generation; how many were rendered."""
    if not enabled() or replaying():
        return 0
    from core.caching import generation  # which imports this module

    deadline = time.monotonic() + _seconds()
    handler = BaseHandler()
    handler.load_middleware()
    rendered = 0
    _state.replaying = True
    try:
        for page in hot_pages():
            if time.monotonic() >= deadline:
                break
            generation.forget()  # read the generation afresh: it may have moved again
            try:
                # Not response.close(): that would end this request's cycle (request_finished).
                response = handler.get_response(_request_for(page))
            except Exception:
                logger.warning("Refreshing %s failed.", page[0], exc_info=True)
                continue
            rendered += 1
            if response.status_code != 200:  # gone (a deleted entry), or moved
                _forget(page)
    finally:
        _state.replaying = False
        generation.forget()
    return rendered
