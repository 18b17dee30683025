"""Security helpers that Django and the packages we use do not provide.

* ``PermissionsPolicyMiddleware`` sends ``Permissions-Policy`` (Django's SecurityMiddleware
  sends HSTS, nosniff, Referrer-Policy and COOP; django-csp the Content-Security-Policy).
* ``URLLengthLimitMiddleware`` answers 414 to URLs over 32 KB, whatever server runs the app
  (gunicorn itself refuses request lines over 8 KB), so no filter is handed a 100 KB search
  term: SQLite, for one, refuses LIKE patterns over 50,000 characters with an error.
* ``NullCharacterMiddleware`` answers 400 to a NUL character in the path, the query string or
  a submitted form. No text in the site can contain one, PostgreSQL refuses it in any text
  value (as an error from the driver, a 500), and a form field that is not a CharField (a
  choice, a slug lookup, the admin's search box) would hand it to a query.
* ``client_ip`` is the one place that says who the client is when the app runs behind reverse
  proxies: with ``MYOEVIDENCE_PROXY_COUNT`` proxies in front, the client is the address the
  outermost proxy saw, i.e. that many entries from the right of X-Forwarded-For. Entries
  further left were written by the client and cannot be trusted. django-axes (admin login
  lockout), the API's rate limits and the JSON log lines all ask it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse

NUL = "\x00"


class PermissionsPolicyMiddleware:
    """Turn off browser features the site never uses (camera, geolocation, payment...)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


class URLLengthLimitMiddleware:
    """414 URI Too Long when path + query string exceed ``MYOEVIDENCE_MAX_URL_BYTES``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = int(getattr(settings, "MYOEVIDENCE_MAX_URL_BYTES", 32768))
        length = len(request.META.get("PATH_INFO", "")) + len(request.META.get("QUERY_STRING", ""))
        if limit and length > limit:
            return HttpResponse(
                f"The address is {length:,} characters long; the limit is {limit:,}.\n",
                status=414,
                content_type="text/plain",
            )
        return self.get_response(request)


class NullCharacterMiddleware:
    """400 Bad Request when the path, the query string or a form holds a NUL character.

    Forms are read only for the site's own pages: the API accepts JSON alone, and its parser
    (core.api.parsers) checks the body it reads. Lone surrogates cannot come this way: Django
    re-percent-encodes bytes that are not UTF-8 in the path and replaces them (U+FFFD) in query
    strings and forms.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = self.nul_in(request)
        if where:
            return HttpResponse(
                f"The {where} contains a NUL character (%00), which no address "
                "or value on this site can contain.\n",
                status=400,
                content_type="text/plain",
            )
        return self.get_response(request)

    @staticmethod
    def nul_in(request) -> str:
        if NUL in request.path_info:
            return "address"
        if NUL in request.META.get("QUERY_STRING", "") or _has_nul(request.GET):
            return "query string"
        if (
            request.method == "POST"
            and not request.path_info.startswith("/api/")
            and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
            and _has_nul(request.POST)
        ):
            return "form"
        return ""


def _has_nul(data) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in data.lists())


def forwarded_client(remote: str, forwarded_for: str, proxies: int) -> str:
    """Who the client is, from the connecting address, X-Forwarded-For and the number of
    trusted proxies (no Django here: gunicorn's access log calls it too)."""
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in forwarded_for.split(",") if part.strip()]
    if not forwarded:
        return remote
    # Fewer entries than proxies: the request did not come through all of them; the leftmost
    # entry is the earliest address known (as DRF's NUM_PROXIES takes it).
    chosen = forwarded[-min(proxies, len(forwarded))]
    try:
        return str(ipaddress.ip_address(chosen))
    except ValueError:
        # Not an address (a client-written entry, when fewer proxies than configured wrote
        # theirs): key on the connection rather than on text of the client's choosing.
        return remote


def client_ip(request: HttpRequest) -> str:
    """The client's address, honouring ``MYOEVIDENCE_PROXY_COUNT`` trusted proxies."""
    return forwarded_client(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        int(getattr(settings, "MYOEVIDENCE_PROXY_COUNT", 0) or 0),
    )
