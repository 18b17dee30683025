"""Conditional requests: ETag and Last-Modified on reads, If-Match on writes.

Validators come from the ``modified`` timestamps the models keep:

* one record: its primary key and ``modified`` (a strong ETag, so it can guard writes);
* a list or an export: the number of records the filters select and the latest ``modified``
  among them (one aggregate query), together with the path, the query string, the format and
  whether the client sees drafts (a weak ETag: the same records, the same body).

Django's ``get_conditional_response`` applies RFC 9110's rules (If-Match, If-Unmodified-Since,
If-None-Match, If-Modified-Since, in that order of precedence).
"""

from __future__ import annotations

import hashlib
from calendar import timegm
from datetime import datetime

from django.db.models import Count, Max, QuerySet
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from rest_framework import status
from rest_framework.exceptions import APIException

from core.cache import memoize, queryset_key

API_VERSION = "1"
CACHE_CONTROL = "no-cache"  # caches may keep a copy but must revalidate it with us


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The resource changed since you read it (its ETag no longer matches If-Match). "
        "Fetch it again, re-apply your change and send the new ETag."
    )
    default_code = "precondition_failed"


def _digest(*parts) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _timestamp(moment: datetime | None) -> int | None:
    return timegm(moment.utctimetuple()) if moment else None


def object_etag(instance, media_type: str = "application/json") -> str:
    """The strong ETag of one record in one representation."""
    modified = getattr(instance, "modified", None)
    stamp = modified.isoformat() if modified else ""
    return '"' + _digest(API_VERSION, instance._meta.label, instance.pk, stamp, media_type) + '"'


def collection_state(queryset: QuerySet) -> tuple[int, datetime | None]:
    """How many records the queryset selects and when the latest of them changed (once per
    content generation for each distinct query: a full count of a large list)."""
    queryset = queryset.order_by()
    row = memoize("collection-state", queryset_key(queryset),
                  lambda: queryset.aggregate(n=Count("pk"), last=Max("modified")))
    return row["n"], row["last"]


def collection_etag(request, media_type: str, count: int, last: datetime | None) -> str:
    scope = "all" if getattr(request.user, "is_staff", False) else "published"
    query = sorted(request.query_params.lists())
    stamp = last.isoformat() if last else ""
    return 'W/"' + _digest(API_VERSION, request.path, query, media_type, scope, count,
                           stamp) + '"'


def evaluate(request, *, etag: str, last_modified: datetime | None):
    """A 304 response to send instead of the body, or None to go on.

    Raises PreconditionFailed (412) when a write's If-Match or If-Unmodified-Since fails.
    """
    response = get_conditional_response(
        request._request, etag=etag, last_modified=_timestamp(last_modified)
    )
    if response is None:
        return None
    if response.status_code == status.HTTP_412_PRECONDITION_FAILED:
        raise PreconditionFailed()
    return stamp(response, etag=etag, last_modified=last_modified)


def stamp(response, *, etag: str | None, last_modified: datetime | None):
    """Put the validators and caching headers on a response (also on a 304)."""
    if etag:
        response["ETag"] = etag
    if last_modified:
        response["Last-Modified"] = http_date(_timestamp(last_modified))
    response["Cache-Control"] = CACHE_CONTROL
    patch_vary_headers(response, ("Accept", "Authorization"))
    return response
