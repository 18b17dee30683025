"""Structured logs: one JSON object per line in production, each tagged with its request id.

* ``RequestIdMiddleware`` gives every request an id: the proxy's ``X-Request-ID`` when it sends
  a sane one (nginx: ``proxy_set_header X-Request-ID $request_id;``), else a fresh one. The id
  is returned in the response's ``X-Request-ID`` header, so a user's report, the proxy's log,
  gunicorn's access log and the application's log lines can be matched.
* ``RequestIdFilter`` puts the id on every log record written while the request runs.
* ``JSONFormatter`` writes records as JSON lines (``DJANGO_LOG_FORMAT=json``, the default when
  ``DJANGO_DEBUG`` is off); ``GunicornLogger`` does the same for gunicorn's access log.

This module imports nothing from Django at load time: gunicorn's master loads it before Django
is set up.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import uuid
from datetime import UTC, datetime

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
# What we accept from the proxy; anything else (too long, odd characters) is replaced.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Attributes every LogRecord has; anything else was passed in ``extra`` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# Extras that are objects, not data (Django's request logger passes the request itself).
_SKIPPED = {"request", "server_time", "request_id"}


def current_request_id() -> str:
    """The id of the request being handled in this thread ("" outside a request)."""
    return _request_id.get()


class RequestIdMiddleware:
    """Tag the request, its log lines and its response with a request id (outermost)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = _record_request_id(record)
        return True


def _record_request_id(record: logging.LogRecord) -> str:
    # Django logs a request's 4xx/5xx after the middleware has returned, passing the request.
    request = getattr(record, "request", None)
    return getattr(request, "request_id", "") or current_request_id()


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or _record_request_id(record)
        if request_id:
            entry["request_id"] = request_id
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "method"):
            entry["method"] = request.method
            entry["path"] = getattr(request, "path", "")
            # The real client behind the proxies, as the lockout and rate limits see it.
            from core.security import client_ip

            entry["client_ip"] = client_ip(request)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _SKIPPED and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _gunicorn_logger_base():
    try:
        from gunicorn.glogging import Logger
    except ImportError:  # pragma: no cover - gunicorn is a dependency; keep import-safe anyway
        return object
    return Logger


class GunicornLogger(_gunicorn_logger_base()):
    """gunicorn's logger, writing its access log as JSON lines (``logger_class`` in
    gunicorn.conf.py). Its error log keeps gunicorn's format: it says little and rarely."""

    def access(self, resp, req, environ, request_time):
        if not (
            self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog
        ):
            return
        headers = dict((name.lower(), value) for name, value in (resp.headers or []))
        from core.security import forwarded_client  # imports no more of Django than settings

        remote = environ.get("REMOTE_ADDR", "")
        forwarded_for = environ.get("HTTP_X_FORWARDED_FOR", "")
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "remote_addr": remote,
            "forwarded_for": forwarded_for,
            # The same reading of X-Forwarded-For as the app's (core.security.client_ip).
            "client_ip": forwarded_client(remote, forwarded_for, _proxy_count()),
            "method": environ.get("REQUEST_METHOD", ""),
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "status": _status_code(resp),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "request_id": headers.get("x-request-id", ""),
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:  # never let logging break a response
            self.exception("Failed to write the access log line")


def _proxy_count() -> int:
    # gunicorn's logger runs outside any request: the setting's source, the environment.
    try:
        return int(os.environ.get("MYOEVIDENCE_PROXY_COUNT", "0") or 0)
    except ValueError:
        return 0


def _status_code(resp) -> int | str:
    status = getattr(resp, "status_code", None) or getattr(resp, "status", "")
    if isinstance(status, str) and status[:3].isdigit():
        return int(status[:3])
    return status
