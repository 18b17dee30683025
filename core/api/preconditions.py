"""The API's write preconditions: a required If-Match (428), a failed one (412).

Writes (PUT, PATCH, workflow POSTs) must send ``If-Match``: without it they are refused with
428 Precondition Required (RFC 6585) rather than allowed to overwrite blindly, and a header that
is not a list of quoted entity tags (or ``*``) is a 400: silently ignoring it would be the very
lost update it is meant to prevent. Whether it matches is decided by ``core.conditional`` (the
site's one conditional-request implementation), which raises ``PreconditionFailed`` for the API.
"""

from __future__ import annotations

import re

from rest_framework import status
from rest_framework.exceptions import APIException, ParseError

# RFC 9110 §13.1.1: If-Match = "*" / #entity-tag; entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
# (etagc: any visible character but DQUOTE, and obs-text).
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
IF_MATCH_RE = re.compile(rf"^\s*(?:\*|{_ENTITY_TAG}(?:\s*,\s*{_ENTITY_TAG})*)\s*$")


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The resource changed since you read it (its ETag no longer matches If-Match). "
        "Fetch it again, re-apply your change and send the new ETag."
    )
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "This write needs an If-Match header, so that it cannot overwrite a change you have "
        "not seen. GET the record, then send its ETag header's value (quotes included) as "
        "If-Match with your change."
    )
    default_code = "precondition_required"


def require_if_match(request) -> None:
    """Refuse a write that sends no If-Match (428) or an unusable one (400)."""
    header = request.META.get("HTTP_IF_MATCH")
    if header is None or not header.strip():
        raise PreconditionRequired()
    if not IF_MATCH_RE.match(header):
        raise ParseError(
            f"If-Match must be the ETag you read, in double quotes as the ETag header gives "
            f'it (e.g. If-Match: "{"0" * 8}..."), or *; got {header[:80]!r}.'
        )
