"""The whole-page cache: anonymous GET responses kept per content generation.

``PageCacheMiddleware`` (core/middleware.py) asks ``lookup`` for a stored page and hands a
fresh one to ``store``. A page is stored with the generation read before it was rendered and
served only while that generation is current (``core.caching.generation``): a content change,
committed by any process, makes every stored page a miss on the next request everywhere.

Where pages are kept: in this process (``local_pages``, up to
``MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES``), and when Django's default cache is shared (Redis) there
too, so that a page rendered by one process serves the others. A hit from this process's copy
costs the one generation read of the request and nothing else.

A page may vary on request headers (``Vary``: Accept for the API). Which headers each URL's page
varies on is learnt from the stored responses and remembered here (and in the shared cache), so
that the key can be built before the page is found.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import cc_delim_re

from core.caching import generation
from core.caching.local import LocalStore
from core.caching.shared import shared_cache

__all__ = [
    "Lookup",
    "is_cacheable_request",
    "is_cacheable_response",
    "local_pages",
    "lookup",
    "page_cache_seconds",
    "reset",
    "store",
]

logger = logging.getLogger(__name__)

# Request headers a stored page never depends on: requests carrying them are not served from
# (or stored in) the cache at all, see ``is_cacheable_request``.
UNKEYED_VARY = {"cookie", "authorization"}
VARY_MEMO_LIMIT = 10_000


def page_cache_seconds() -> int:
    return int(getattr(settings, "MYOEVIDENCE_PAGE_CACHE_SECONDS", 0) or 0)


def _local_limit() -> int:
    return int(getattr(settings, "MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES", 0) or 0)


# (status, header items, content) of pages, by key; sized by their content.
local_pages = LocalStore(_local_limit)
# Which request headers each URL's page varies on.
_vary_memo: dict[str, list[str]] = {}


def reset() -> None:
    """Forget every page this process holds (tests; a shared cache keeps its own)."""
    local_pages.clear()
    _vary_memo.clear()


def is_cacheable_request(request: HttpRequest) -> bool:
    """Anonymous reads only: a session, a flash message or a token may change the page."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.path.startswith(tuple(getattr(settings, "MYOEVIDENCE_PAGE_CACHE_EXCLUDE", ()))):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    cookies = request.COOKIES
    return not (
        settings.SESSION_COOKIE_NAME in cookies
        or getattr(settings, "MESSAGE_COOKIE_NAME", "messages") in cookies
    )


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


@dataclass
class Lookup:
    """What a request found; ``page`` is None on a miss. ``generation`` is the one the
    request read before anything was rendered: a fresh page is stored under it."""

    generation: int
    url: str
    page: HttpResponse | None = None


def lookup(request: HttpRequest) -> Lookup:
    """The stored page for this request if it belongs to the current generation.

    Raises ``DisallowedHost`` for a host the site does not serve (the host is part of the key):
    the caller lets Django answer it (400)."""
    url = _url_digest(request)
    current = generation.current()
    headers = _vary_memo.get(url)
    if headers is not None:
        key = _page_key(url, request, headers)
        page = local_pages.get(key, current)
        if page is not None:
            return _served(page, current, url)
    shared = shared_cache()
    if shared is None:
        return Lookup(generation=current, url=url)
    if headers is None:
        headers = _shared_get(shared, f"page-vary:{url}")
        if headers is None:
            return Lookup(generation=current, url=url)
        _remember(url, headers)
        key = _page_key(url, request, headers)
    stored = _shared_get(shared, key)
    # A page stored under another generation is a miss: content changed since.
    if stored is None or stored[0] != current:
        return Lookup(generation=current, url=url)
    page = stored[1:]
    local_pages.put(key, current, page, len(page[2]), page_cache_seconds())
    return _served(page, current, url)


def store(request: HttpRequest, found: Lookup, response: HttpResponse, seconds: int) -> None:
    """Keep the page under the generation read *before* rendering: if content changed while
    the page was being built, it is stored as old and never served."""
    if generation.uncommitted_changes():
        return  # this request changed content it has not committed: nothing to share
    headers = sorted(h for h in _vary(response) if h not in UNKEYED_VARY)
    header_items = [(k, v) for k, v in response.items() if k.lower() != "set-cookie"]
    key = _page_key(found.url, request, headers)
    page = (response.status_code, header_items, response.content)
    _remember(found.url, headers)
    local_pages.put(key, found.generation, page, len(response.content), seconds)
    shared = shared_cache()
    if shared is not None:
        shared.set_many(
            {f"page-vary:{found.url}": headers, key: (found.generation, *page)}, timeout=seconds
        )


def _shared_get(shared, key: str):
    try:
        return shared.get(key)
    except Exception:  # an unreachable Redis: a miss, and the page is rendered
        logger.warning("Shared page cache unavailable.", exc_info=True)
        return None


def _served(page: tuple, current: int, url: str) -> Lookup:
    status, header_items, content = page
    response = HttpResponse(content, status=status)
    for name, value in header_items:
        response[name] = value
    return Lookup(generation=current, url=url, page=response)


def _vary(response: HttpResponse) -> list[str]:
    header = response.get("Vary", "")
    return [h.strip().lower() for h in cc_delim_re.split(header) if h.strip()] if header else []


def _digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _url_digest(request: HttpRequest) -> str:
    # Scheme and host too: API responses contain absolute links.
    return _digest(f"{request.scheme}://{request.get_host()}{request.get_full_path()}")


def _page_key(url: str, request: HttpRequest, headers: list[str]) -> str:
    values = [request.META.get("HTTP_" + h.upper().replace("-", "_"), "") for h in headers]
    vary = _digest("|".join(f"{h}={v}" for h, v in zip(headers, values, strict=True)))
    return f"page:{url}:{vary}"


def _remember(url: str, headers: list[str]) -> None:
    if len(_vary_memo) >= VARY_MEMO_LIMIT:
        _vary_memo.clear()
    _vary_memo[url] = headers
