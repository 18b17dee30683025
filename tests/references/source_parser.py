"""An independent reading of the source review's reference list, for checking the corpus.

Deliberately not shared with the fixture: the tests compare the database with *this* parse of
``review.txt``, so a mistake in ``references.bib`` cannot hide behind the same mistake here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

LINE = re.compile(r"^\s+(?P<n>\d{1,2})\.\s+(?P<text>\S.*?)\s*$", re.M)
YEAR = re.compile(r"\((?P<year>1[89]\d\d|20\d\d)\)")
TAIL = re.compile(
    r"^(?P<journal>[A-Z][A-Za-z() ]*?) (?P<volume>\d+)"
    r"(?:\((?P<issue>[^)]*)\))?(?::(?P<pages>[^\s]+?))?\.?$"
)
INITIALS = re.compile(r"^[A-Z]{1,3}\.?$")


@dataclass
class SourceReference:
    number: int
    authors: list[tuple[str, str]] = field(default_factory=list)  # (family, given)
    truncated: bool = False
    year: int = 0
    title: str = ""
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""


def parse_review(path: Path) -> dict[int, SourceReference]:
    text = path.read_text(encoding="utf-8")
    refs: dict[int, SourceReference] = {}
    for match in LINE.finditer(text):
        number = int(match["n"])
        if 1 <= number <= 60 and number not in refs:
            refs[number] = _parse(number, match["text"])
    return refs


def _parse(number: int, text: str) -> SourceReference:
    ref = SourceReference(number=number)
    year = YEAR.search(text)
    ref.year = int(year["year"])
    names, rest = text[: year.start()].strip(), text[year.end() :].strip()
    # Some entries continue the author list after the year with a study group, e.g.
    # "(2014) RIM Study Group, Oddis CV. Predictors ...".
    group = re.match(r"^([^.]*Study Group[^.]*)\. ", rest)
    more_names = []
    if group:
        more_names = [n.strip() for n in group[1].split(",")]
        rest = rest[group.end() :]
    ref.title, tail = _split_title(rest)
    parts = TAIL.match(tail)
    ref.journal, ref.volume = parts["journal"], parts["volume"]
    ref.issue, ref.pages = parts["issue"] or "", parts["pages"] or ""
    ref.authors, ref.truncated = _names(names, more_names)
    return ref


def _split_title(rest: str) -> tuple[str, str]:
    """The title ends at the last '. ' or '? ' after which a journal citation follows."""
    for index in range(len(rest) - 2, 0, -1):
        if rest[index] in ".?" and rest[index + 1] == " " and TAIL.match(rest[index + 2 :]):
            title = rest[: index + 1]
            return (title[:-1] if title.endswith(".") else title), rest[index + 2 :]
    raise ValueError(f"no journal citation in: {rest}")


def _names(names: str, more: list[str]) -> tuple[list[tuple[str, str]], bool]:
    truncated = names.endswith("et al")
    if truncated:
        names = names[: -len("et al")].strip()
    chunks = [c.strip() for c in names.split(",") if c.strip()] + more
    # One entry (number 10) prints initials first ("R Aggarwal") and ends with a stray ". A".
    initials_first = INITIALS.match(chunks[0].split()[0]) is not None and len(chunks[0].split()) > 1
    people = []
    for chunk in chunks:
        chunk = re.sub(r"\. [A-Z]$", "", chunk)
        if "Study Group" in chunk:
            people.append((chunk, ""))
            continue
        tokens = chunk.split()
        if len(tokens) == 1:
            people.append((tokens[0], ""))
        elif initials_first:
            people.append((" ".join(tokens[1:]), tokens[0]))
        else:
            people.append((" ".join(tokens[:-1]), tokens[-1]))
    return people, truncated
