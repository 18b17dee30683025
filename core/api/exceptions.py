"""One error format for the whole API: JSON, whatever format the client asked for.

Model validation (``full_clean``, including database constraints) becomes 400 with field
messages, a refused workflow transition 409, a write that still trips the database 409;
Django's refusals of a request (a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` 413, too many
parameters and other suspicious requests 400) come out as JSON too; every other error keeps
DRF's status. Nothing a client sends should become a 500. What DRF never sees (an unhandled
exception, errors raised above the views) is made JSON by core.middleware_api.
"""

from __future__ import annotations

from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.views import exception_handler as drf_exception_handler

from core.api.parsers import RequestTooLarge, body_limit
from core.api.renderers import ExportRenderer, JSONRenderer


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


def _workflow_error_class():
    try:
        from core.invariants import InvariantError
        from core.workflow import WorkflowError
    except ImportError:  # pragma: no cover - the workflow module is optional for reads
        return None
    return (WorkflowError, InvariantError)


def translate(exc: Exception) -> Exception:
    """Turn the domain's exceptions into DRF's."""
    if isinstance(exc, DjangoValidationError):
        detail = get_error_detail(exc)
        if not isinstance(detail, dict):
            detail = {"non_field_errors": detail}
        # Django names form-wide errors __all__; DRF clients know them as non_field_errors.
        if "__all__" in detail:
            detail["non_field_errors"] = detail.pop("__all__")
        return exceptions.ValidationError(detail)
    workflow_error = _workflow_error_class()
    if workflow_error is not None and isinstance(exc, workflow_error):
        return Conflict(str(exc))
    if isinstance(exc, IntegrityError):
        return Conflict("The change conflicts with another record (a duplicate identifier?).")
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(
            f"The request body is larger than the limit of {body_limit():,} bytes."
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError("The request has too many parameters.")
    if isinstance(exc, SuspiciousOperation):
        # Its message may name files or settings: say only that the request was refused.
        return exceptions.ParseError("The request was refused as malformed.")
    return exc


def exception_handler(exc, context):
    exc = translate(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        wait = max(1, int(exc.wait + 0.999))
        response.data = {
            "detail": f"Too many requests. Retry after {wait} seconds, or authenticate with "
            f"a token for a higher limit.",
            "retry_after": wait,
        }
        response["Retry-After"] = str(wait)
    request = context.get("request")
    # An error is not a CSV file: answer it in JSON even when ?format=csv was asked for.
    if request is not None and isinstance(
        getattr(request, "accepted_renderer", None), ExportRenderer
    ):
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    return response
