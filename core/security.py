"""Security helpers that Django and the packages we use do not provide.

* ``PermissionsPolicyMiddleware`` sends ``Permissions-Policy`` (Django's SecurityMiddleware
  sends HSTS, nosniff, Referrer-Policy and COOP; django-csp the Content-Security-Policy).
* ``URLLengthLimitMiddleware`` answers 414 to URLs over 32 KB, whatever server runs the app
  (gunicorn itself refuses request lines over 8 KB), so no filter is handed a 100 KB search
  term: SQLite, for one, refuses LIKE patterns over 50,000 characters with an error.
* ``client_ip`` tells django-axes (admin login lockout) who the client is when the app runs
  behind reverse proxies: with ``MYOEVIDENCE_PROXY_COUNT`` proxies in front, the client is the
  address the outermost proxy saw, i.e. that many entries from the right of X-Forwarded-For.
  Entries further left were written by the client and cannot be trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
        length = len(request.META.get("PATH_INFO", "")) + \
            len(request.META.get("QUERY_STRING", ""))
        if limit and length > limit:
            return HttpResponse(f"The address is {length:,} characters long; the limit is "
                                f"{limit:,}.\n", status=414, content_type="text/plain")
        return self.get_response(request)


def client_ip(request: HttpRequest) -> str:
    """The client's address, honouring ``MYOEVIDENCE_PROXY_COUNT`` trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "")
    count = int(getattr(settings, "MYOEVIDENCE_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
                 if part.strip()]
    if len(forwarded) < count:
        # Fewer entries than proxies: the request did not come through all of them.
        return forwarded[0] if forwarded else remote
    return forwarded[-count]
