"""The API's JSON parser: DRF's, bounded.

DRF reads a JSON body straight from the request stream, so Django's limit on body size
(``DATA_UPLOAD_MAX_MEMORY_SIZE``, which applies to ``request.body`` and forms) never applies,
and Python's parser answers a body of 100,000 nested arrays with RecursionError, which DRF does
not catch (a 500). Once parsed, a NUL character fails later in PostgreSQL (it refuses one in
any text or jsonb value) and a lone surrogate (``"\\ud800"``, valid JSON, not encodable as
UTF-8) fails in the database driver: both became 500s. This parser refuses all four with a
clear message (413 for the size, 400 otherwise) before any serializer sees the data.
"""

from __future__ import annotations

import re

from django.conf import settings
from rest_framework import exceptions, parsers, status

# No payload of this API nests deeper than 4 (a study, its outcomes, their fields).
MAX_DEPTH = 64
SURROGATE = re.compile("[\ud800-\udfff]")


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def body_limit() -> int | None:
    return getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None)


def check_length(request) -> None:
    """413 when the declared body is longer than ``DATA_UPLOAD_MAX_MEMORY_SIZE``."""
    limit = body_limit()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("The Content-Length header is not a number.") from None
    if limit is not None and length > limit:
        raise RequestTooLarge(f"The request body is {length:,} bytes; the limit is {limit:,}.")


def problem_in(data) -> str | None:
    """The first place where ``data`` nests too deeply or holds a NUL or a lone surrogate."""
    stack = [(data, "$", 0)]  # iterative: the data may be as deep as the parser allowed
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"the JSON is nested more than {MAX_DEPTH} levels deep (at {where})"
        if isinstance(value, str):
            if "\x00" in value:
                return f"text may not contain a NUL character (\\u0000) (at {where})"
            if SURROGATE.search(value):
                return (
                    f"text may not contain a lone surrogate such as \\ud800, which is not "
                    f"a character (at {where})"
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                label = key if isinstance(key, str) else str(key)
                if "\x00" in label or SURROGATE.search(label):
                    return f"a field name contains a NUL character or a lone surrogate (in {where})"
                stack.append((item, f"{where}.{label}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        if request is not None:
            check_length(request)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - the JSON is nested more than {MAX_DEPTH} levels deep."
            ) from None
        problem = problem_in(data)
        if problem:
            raise exceptions.ParseError(f"JSON parse error - {problem}.")
        return data
