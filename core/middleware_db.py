"""When the database is away, answer 503 with Retry-After instead of a 500 and a traceback.

PostgreSQL restarting, failing over or refusing connections raises ``OperationalError`` (or
``InterfaceError`` for a connection that died under us). That is an outage, not a bug: readers
get a short "back soon" page (JSON under /api/), load balancers and clients see 503 and retry,
and the log gets one line per request rather than a traceback. Nothing needs restarting: Django
opens a new connection on the next request (``conn_health_checks`` discards a dead persistent
one first), so the site recovers as soon as the database answers again.

Errors raised by a view (or while rendering its template) reach ``process_exception``. Errors
raised by another middleware inside this one are turned into a 500 by Django before we see
them; ``got_request_exception`` marks the request, and ``__call__`` replaces that 500.

Only errors that mean "the database cannot be reached or is refusing work" count: connection
failures and PostgreSQL's connection, resource and operator-intervention errors (SQLSTATE
classes 08, 53, 57), SQLite's locked or unopenable file. Any other ``OperationalError`` (a bad
query, a missing table) is a bug and stays a 500.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

# SQLSTATE classes: connection exception, insufficient resources, operator intervention
# (shutdown, restart, cancelled statement).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
# What drivers say when there is no usable connection (no SQLSTATE then).
UNAVAILABLE_MESSAGES = (
    "server closed the connection",
    "connection to server",
    "could not connect",
    "terminating connection",
    "connection already closed",
    "no connection to the server",
    "the database system is",
    "ssl syscall error",
    "database is locked",
    "unable to open database",
)
_MARK = "_myoevidence_database_unavailable"


def database_unavailable(exc: BaseException) -> bool:
    """Does ``exc`` mean the database is away (rather than that a query is wrong)?"""
    if isinstance(exc, InterfaceError):
        return True
    # Django wraps the driver's exception (as __cause__), except on a few paths, such as
    # closing a cursor, where psycopg's own comes through.
    driver = exc.__cause__ if isinstance(exc, DatabaseError) else exc
    if driver is not None and hasattr(driver, "pgcode"):  # psycopg
        if driver.pgcode is not None:
            return driver.pgcode[:2] in UNAVAILABLE_SQLSTATE_CLASSES
        # No SQLSTATE: libpq failed, the connection broke under the query (OperationalError,
        # or a bare DatabaseError such as "error with status PGRES_TUPLES_OK and no message").
        kinds = {cls.__name__ for cls in type(driver).__mro__}
        return (
            bool(kinds & {"OperationalError", "InterfaceError"})
            or type(driver).__name__ == "DatabaseError"
        )
    message = str(exc).lower()
    return isinstance(exc, OperationalError) and any(
        text in message for text in UNAVAILABLE_MESSAGES
    )


def retry_after_seconds() -> int:
    return int(getattr(settings, "MYOEVIDENCE_RETRY_AFTER_SECONDS", 10))


def unavailable_response(request) -> HttpResponse:
    """The 503 itself: JSON for the API, a small page (no database, no context) otherwise."""
    wait = retry_after_seconds()
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "detail": f"The database is temporarily unavailable. Retry in {wait} seconds.",
                "retry_after": wait,
            },
            status=503,
        )
    else:
        response = HttpResponse(
            loader.get_template("503.html").render({"retry_after": wait}), status=503
        )
    response["Retry-After"] = str(wait)
    response["Cache-Control"] = "no-store"
    # Logged once here, as one line; Django's request logger would log it again.
    response._has_been_logged = True
    return response


def _log(request, exc: BaseException) -> None:
    first_line = (str(exc).strip().splitlines() or [""])[0]
    logger.error(
        "Database unavailable: answered 503 to %s %s (%s: %s)",
        request.method,
        request.path,
        type(exc).__name__,
        first_line,
    )


class DatabaseUnavailableMiddleware:
    """Place it high in MIDDLEWARE (below SecurityMiddleware and whitenoise)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, _MARK, None)
        if exc is not None and response.status_code >= 500:
            _log(request, exc)
            return unavailable_response(request)
        return response

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            _log(request, exception)
            return unavailable_response(request)
        return None


def _mark_request(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and exc is not None and database_unavailable(exc):
        setattr(request, _MARK, exc)


got_request_exception.connect(_mark_request, dispatch_uid="core.middleware_db.mark_request")
