"""Streaming exports: a generator of text chunks becomes a StreamingHttpResponse.

Querysets are walked with ``.iterator(chunk_size=...)``; Django applies the queryset's
``prefetch_related`` per chunk, so memory stays flat however large the export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

from core.api.renderers import ExportRenderer

CHUNK_SIZE = 500


class _Echo:
    """A file-like object whose write() returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _dig(data, path: str):
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(_cell(v) if not isinstance(v, dict) else json.dumps(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def rows_as_csv(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    """CSV of serialized records: one column per (dotted) field; lists joined with '; '."""
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([_cell(_dig(row, column)) for column in columns])


def streaming_response(chunks: Iterable[str], renderer: ExportRenderer,
                       filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (chunk.encode(renderer.charset) for chunk in chunks),
        content_type=f"{renderer.media_type}; charset={renderer.charset}",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{renderer.extension}"'
    return response
