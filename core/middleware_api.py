"""Every error under /api/ is JSON, whichever layer produced it.

DRF answers the errors it sees in JSON (core.api.exceptions). Some never reach it: an exception
DRF does not know (a bug) becomes Django's HTML 500 page; a bad Host header, too many query
parameters or a body Django refuses become its HTML 400; the middleware above the views answer
in plain text (414 URI Too Long, 400 for a NUL character). This middleware, just inside the
request id one, turns any such error response under /api/ into ``{"detail": ...}`` with the same
status and headers. A plain-text body is kept as the detail (it was written for the client);
an HTML page is replaced by a sentence for its status, never by the page's contents.

The site's pages keep their HTML error pages. With DEBUG on a 500 keeps Django's debug page: it
is what a developer wants to read.
"""

from __future__ import annotations

from http import HTTPStatus

from django.conf import settings
from django.http import JsonResponse

API_PREFIX = "/api/"
# What we can say about an HTML error page without reading it, by status.
DETAILS = {
    400: "Bad request: it could not be read (malformed, or over a limit such as the number of "
    "parameters).",
    403: "You do not have permission to do this.",
    404: "Not found. See /api/docs/ for the endpoints there are.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    500: "Server error: the request failed on our side and was logged. Quote the request id "
    "when reporting it.",
}
# Headers that still mean something on the JSON answer (the rest describe the old body).
KEPT_HEADERS = ("Allow", "Retry-After", "Cache-Control", "Vary", "WWW-Authenticate")


def is_json(response) -> bool:
    return "json" in response.get("Content-Type", "").split(";")[0]


def detail_for(response) -> str:
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    if content_type == "text/plain" and not response.streaming:
        text = response.content.decode(response.charset or "utf-8", "replace").strip()
        if text:
            return text
    status = response.status_code
    if status in DETAILS:
        return DETAILS[status]
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."


class APIErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or is_json(response)
            or not request.path_info.startswith(API_PREFIX)
        ):
            return response
        if settings.DEBUG and response.status_code >= 500:
            return response
        body = {"detail": detail_for(response)}
        request_id = getattr(request, "request_id", "")
        if response.status_code >= 500 and request_id:
            body["request_id"] = request_id
        replacement = JsonResponse(body, status=response.status_code)
        for name in KEPT_HEADERS:
            if name in response:
                replacement[name] = response[name]
        # Django's request logger has logged the original already (4xx and 5xx alike).
        replacement._has_been_logged = getattr(response, "_has_been_logged", False)
        return replacement
