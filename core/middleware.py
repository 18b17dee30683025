"""Middleware shared by every app."""

from __future__ import annotations

import logging

from django.core.exceptions import DisallowedHost
from django.db import DatabaseError

from core.caching import pages as page_cache
from core.caching import refresh
from core.conditional import revalidate

logger = logging.getLogger(__name__)

CACHE_STATUS_HEADER = "X-Page-Cache"


class RefreshAheadMiddleware:
    """After a request that committed a content change, render the pages readers were
    reading before the response leaves (``core.caching.refresh``), so that their next reader
    finds them computed; after an anonymous GET that needed something computed, remember it
    as such a page.

    Outermost, so that the pages are replayed once this request's own middleware is done with
    it (its request id, its headers). A request that changed nothing and computed nothing costs
    two attribute reads here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cycle = refresh.request_cycle()
        response = self.get_response(request)
        if cycle.changed:
            refresh.refresh()
        elif cycle.computed:
            refresh.record(request, response)
        return response


class PageCacheMiddleware:
    """Serve anonymous GET requests from the whole-page cache (see ``core.caching.pages``).

    It sits above the session and authentication middleware, so a hit costs the request's one
    read of the content generation (a query on SQLite; on PostgreSQL the number this process
    heard, see ``core.caching.listener``) and, from this process's copy, nothing else. A
    miss renders normally and stores a 200 that sets no cookie and is not streamed (exports
    are never held in the cache). The response says which it was
    in ``X-Page-Cache`` (hit, miss), for the benchmark and for debugging.

    When the shared cache is unreachable the page is rendered as if there were no cache: readers
    see a slower site, never an error. When the database is, the request goes on to fail as
    any other would (a 503 from ``DatabaseUnavailableMiddleware``): without the generation no
    stored page can be trusted.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = page_cache.page_cache_seconds()
        if seconds <= 0 or not page_cache.is_cacheable_request(request):
            return self.get_response(request)
        try:
            found = page_cache.lookup(request)
        except DisallowedHost:
            return self.get_response(request)  # Django's 400, never a cached page
        except DatabaseError:
            # No generation, no stored page can be trusted: the request goes on to fail as
            # any other would, into DatabaseUnavailableMiddleware's one-line 503.
            return self.get_response(request)
        except Exception:  # the cache is down: serve without it
            logger.warning(
                "Page cache unavailable; serving %s uncached.", request.path, exc_info=True
            )
            return self.get_response(request)
        if found.page is not None:
            found.page[CACHE_STATUS_HEADER] = "hit"
            # A cached API response keeps answering If-None-Match/If-Modified-Since with 304.
            return revalidate(request, found.page)
        response = self.get_response(request)
        if page_cache.is_cacheable_response(request, response):
            try:
                page_cache.store(request, found, response, seconds)
            except Exception:
                logger.warning(
                    "Page cache unavailable; %s not stored.", request.path, exc_info=True
                )
            response[CACHE_STATUS_HEADER] = "miss"
        return response
