"""Readers for test responses, shared by every test module (no fixtures here: see conftest.py;
no data builders: see factories.py)."""

from __future__ import annotations


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
