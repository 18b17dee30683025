"""Helpers shared by every test module: reading responses, writing query strings. Fixtures are
in conftest.py, data builders in factories.py."""

from __future__ import annotations

from django.http import QueryDict


def content(response) -> bytes:
    """The body of a normal or streamed response (exports stream, pages do not)."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def body(response, status: int | None = None) -> str:
    """The decoded body of a response; with ``status``, first check the response has it, so a
    test reading a page that failed says so instead of failing on missing text."""
    if status is not None:
        assert response.status_code == status, (response.status_code, content(response)[:300])
    return content(response).decode()


def query(params: dict) -> QueryDict:
    """A request's query string as a FilterSet receives it: ``{"therapy": ["a", "b"]}`` is
    ``?therapy=a&therapy=b``; a single value may be given without the list."""
    data = QueryDict(mutable=True)
    for name, value in params.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return data


def contains(text, term: str) -> bool:
    """``icontains`` read in Python: the expected side of a filter test (None is empty)."""
    return term.lower() in str(text or "").lower()
