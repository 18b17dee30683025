"""The API's CSV of serialized records (the response is ``core.formats.download``).

Querysets are walked with ``.iterator(chunk_size=...)``; Django applies the queryset's
``prefetch_related`` per chunk, so memory stays flat however large the export.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from core.csvfile import csv_lines

CHUNK_SIZE = 500


def _dig(data, path: str):
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def rows_as_csv(rows: Iterable[dict], columns: Sequence[str]) -> Iterator[str]:
    """CSV of serialized records: one column per (dotted) field; lists joined with '; '
    (the site's one CSV writer, ``core.csvfile``, so formulas are neutralised)."""
    return csv_lines(columns, ([_dig(row, column) for column in columns] for row in rows))
