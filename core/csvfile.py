"""The one CSV writer of the site: the study pages, every API ``?format=csv`` and the admin
action all write through here, so a cell is made safe to open in a spreadsheet in one place.

Formula neutralisation follows the OWASP "CSV Injection" guidance: a cell whose text starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a formula by Excel,
LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``), so it gets a
leading single quote, which those programs show as text and do not evaluate. The csv module
quotes separators, quotes and newlines inside cells, so a value cannot add a column or a row.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A lone negative number ("-3", "-0.5") is kept as it is: spreadsheets read it as a number and
# nothing in it can be evaluated, since a formula needs an operator or a function after the
# sign ("-2+3", "-A1", "-SUM(...)"), none of which this pattern lets through. Effect sizes and
# changes from baseline are negative numbers, and "'-3" would stop them being numbers.
_PLAIN_NEGATIVE_NUMBER = re.compile(r"-\d+(?:\.\d+)?\Z")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def safe_cell(value) -> str:
    """The text of one cell: None empty, booleans yes/no, lists joined with '; ', dicts as
    JSON, and a cell that a spreadsheet would run as a formula prefixed with a quote."""
    text = _text(value)
    if text.startswith(FORMULA_START) and not _PLAIN_NEGATIVE_NUMBER.match(text):
        return "'" + text
    return text


# The first characters of a formula (FORMULA_START), as a set: ``text[:1] in`` it is the
# quickest test of a plain text cell.
_FORMULA_FIRST = frozenset(FORMULA_START)
# Rows written per piece of a streamed CSV: one write of the csv module and one piece to send
# per batch, instead of one of each per row.
ROWS_PER_PIECE = 200


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The header then the rows as CSV text, each cell through ``safe_cell``, in pieces of
    ``ROWS_PER_PIECE`` whole lines (for streaming)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(name) for name in header])
    pending = []
    for row in rows:
        # Most cells are text that starts as no formula does, or an integer (which the csv
        # module writes as safe_cell would: a lone negative number is kept): kept as they are
        # without the conversions of safe_cell (a third of a large export's time).
        pending.append(
            [
                value
                if (kind := value.__class__) is int
                or (kind is str and value[:1] not in _FORMULA_FIRST)
                else safe_cell(value)
                for value in row
            ]
        )
        if len(pending) == ROWS_PER_PIECE:
            writer.writerows(pending)
            pending.clear()
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    writer.writerows(pending)
    yield out.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """The same CSV as one string (for a non-streamed response)."""
    out = io.StringIO()
    for line in csv_lines(header, rows):
        out.write(line)
    return out.getvalue()
