"""Writing references as BibTeX, RIS and CSL-JSON.

Each writer takes a queryset of references (read a batch at a time as plain values) or an
iterable of reference instances (with authors prefetched) and yields text chunks, one per
reference, so that views can stream a large export without building it in memory.
"""

from __future__ import annotations

import json
import re
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from types import SimpleNamespace

from bibtexparser.writer import BibtexFormat
from django.db.models import OuterRef, QuerySet, TextField
from django.db.models.functions import Cast

from core.streaming import BATCH_ROWS, RowsAsJSON, json_rows, value_batches
from references.choices import ReferenceKind
from references.models import Author, Reference
from references.validators import BIBTEX_KEY_RE

BIBTEX_TYPES = {
    ReferenceKind.JOURNAL_ARTICLE: "article",
    ReferenceKind.CONFERENCE_ABSTRACT: "article",
    ReferenceKind.GUIDELINE: "article",
    ReferenceKind.CONSENSUS_STATEMENT: "article",
    ReferenceKind.BOOK: "book",
    ReferenceKind.BOOK_CHAPTER: "incollection",
    ReferenceKind.CONFERENCE_PAPER: "inproceedings",
    ReferenceKind.THESIS: "phdthesis",
    ReferenceKind.REPORT: "techreport",
    ReferenceKind.ONLINE: "misc",
    ReferenceKind.OTHER: "misc",
}
RIS_TYPES = {
    ReferenceKind.JOURNAL_ARTICLE: "JOUR",
    ReferenceKind.CONFERENCE_ABSTRACT: "ABST",
    ReferenceKind.GUIDELINE: "JOUR",
    ReferenceKind.CONSENSUS_STATEMENT: "JOUR",
    ReferenceKind.BOOK: "BOOK",
    ReferenceKind.BOOK_CHAPTER: "CHAP",
    ReferenceKind.CONFERENCE_PAPER: "CPAPER",
    ReferenceKind.THESIS: "THES",
    ReferenceKind.REPORT: "RPRT",
    ReferenceKind.ONLINE: "ELEC",
    ReferenceKind.OTHER: "GEN",
}
CSL_TYPES = {
    ReferenceKind.JOURNAL_ARTICLE: "article-journal",
    ReferenceKind.CONFERENCE_ABSTRACT: "article-journal",
    ReferenceKind.GUIDELINE: "article-journal",
    ReferenceKind.CONSENSUS_STATEMENT: "article-journal",
    ReferenceKind.BOOK: "book",
    ReferenceKind.BOOK_CHAPTER: "chapter",
    ReferenceKind.CONFERENCE_PAPER: "paper-conference",
    ReferenceKind.THESIS: "thesis",
    ReferenceKind.REPORT: "report",
    ReferenceKind.ONLINE: "webpage",
    ReferenceKind.OTHER: "document",
}

_FORMAT = BibtexFormat()
_FORMAT.indent = "  "
_FORMAT.block_separator = "\n"
_INDENT = _FORMAT.indent


_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
}
# BibTeX itself counts "\{" as a brace when it looks for the end of a value, bibtexparser does
# not: a brace without its partner is written as a macro with no brace of its own, so that
# neither reader can end the field early ("}, author = {x" stays inside the title).
_UNPAIRED_BRACES = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}
_BIBTEX_SPECIALS_RE = re.compile("|".join(re.escape(c) for c in _BIBTEX_SPECIALS))
# One line break, of any kind Python knows (str.splitlines), a Windows one counted once: a value
# on one line cannot start a line with '@' (a new entry for line-based readers) or with
# 'name =' (a new field). BibTeX writes each as \newline{} in prose values.
_LINE_BREAK_RE = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_LINE_BREAKS_RE = re.compile(f"(?:{_LINE_BREAK_RE.pattern})+")
_URL_UNSAFE = {"{": "%7B", "}": "%7D", "\\": "%5C"}


def one_line(value: str) -> str:
    """Line breaks become spaces (BibTeX and RIS readers fold them anyway)."""
    return _LINE_BREAKS_RE.sub(" ", value)


def _balanced(value: str) -> bool:
    if "{" not in value and "}" not in value:
        return True  # most values: no loop over their characters
    depth = 0
    for char in value:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


# TeX reads these pairs as one character ("--" an en dash, "''" a closing quote): an empty
# group between the two keeps them as typed.
_LIGATURES_RE = re.compile(r"-(?=-)|'(?=')|`(?=`)|[?!](?=`)")
# Any character that one of the functions below would change: a value without one (most
# values) is written as it is, without their passes over it.
_PLAIN_RE = re.compile(
    f"[{re.escape(''.join(_BIBTEX_SPECIALS))}]|{_LINE_BREAK_RE.pattern}|{_LIGATURES_RE.pattern}"
)
# The same test, quicker: one class of single characters (specials and line breaks) and the
# ligatures' pairs looked for as substrings. _PLAIN_RE's alternatives with look-aheads are
# tried at every position of every value, a fifth of the full export's time.
_SPECIAL_CHARS_RE = re.compile(
    f"[{re.escape(''.join(_BIBTEX_SPECIALS))}\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]"
)
_LIGATURE_PAIRS = ("--", "''", "``", "?`", "!`")


def _needs_escaping(value: str) -> bool:
    """Whether ``value`` has a character that escaping changes (``_PLAIN_RE``)."""
    return _SPECIAL_CHARS_RE.search(value) is not None or any(
        pair in value for pair in _LIGATURE_PAIRS
    )


def _bibtex_escape(value: str) -> str:
    """Protect characters BibTeX treats specially, in one pass (so no escape is escaped
    again), and the ligatures; a line break is ``\\newline{}`` (a curator's note keeps its
    lines through a backup). Unicode is kept as it is (biber and our reader take UTF-8)."""
    if not _needs_escaping(value):
        return value
    specials = _BIBTEX_SPECIALS if _balanced(value) else {**_BIBTEX_SPECIALS, **_UNPAIRED_BRACES}
    text = _BIBTEX_SPECIALS_RE.sub(lambda m: specials[m.group(0)], value)
    text = _LIGATURES_RE.sub(lambda m: m.group(0) + "{}", text)
    return _LINE_BREAK_RE.sub(r"\\newline{}", text)


def _bibtex_identifier(value: str) -> str:
    """An identifier (DOI, pages, kind...) is written as it is, unless it has a backslash or
    braces without partners, which could end the field: those are dropped (our reader drops
    braces from identifiers anyway)."""
    if not _needs_escaping(value):
        return value
    value = one_line(value)
    if "\\" in value or not _balanced(value):
        value = value.replace("\\", "").replace("{", "").replace("}", "")
    return value


def _bibtex_url(value: str) -> str:
    """A URL with its braces and backslashes percent-encoded (the same address, RFC 3986)."""
    return "".join(_URL_UNSAFE.get(char, char) for char in one_line(value))


# Kind and role are choice values (with '_', so always escaped): a few distinct values, each
# worked out once rather than once per reference of a full export.
_choice_identifier = lru_cache(maxsize=128)(_bibtex_identifier)


def bibtex_key(reference: Reference) -> str:
    """The reference's key, or a safe stand-in when an old row's key is not one (keys are
    validated on input; this keeps a key stored before that from ending the entry)."""
    key = reference.bibtex_key
    if BIBTEX_KEY_RE.match(key):
        return key
    return re.sub(r"[^A-Za-z0-9:./+_-]+", "-", key).strip("-:./+_")[:100] or f"ref-{reference.pk}"


def _as_is(value: str) -> str:
    return value


def _bibtex_name(author, escape: Callable[[str], str] = _bibtex_escape) -> str:
    if author.is_corporate:
        return "{" + escape(author.family) + "}"
    family = escape(author.family)
    if " " in author.family and author.family.split()[0][:1].isupper():
        family = "{" + family + "}"  # keep multi-word surnames such as 'De Bleecker' together
    if not author.given:
        # Given names "{}": a wholly braced name is a group (references.bibtex.parse_names).
        return f"{family}, {{}}" if family.startswith("{") else family
    # The importers keep a suffix after the given names ("Chester V, Jr"); BibTeX writes it
    # second: "Oddis, Jr, Chester V".
    given, comma, suffix = author.given.rpartition(", ")
    if comma:
        return f"{family}, {escape(suffix)}, {escape(given)}"
    return f"{family}, {escape(author.given)}"


def bibtex_entry(reference: Reference) -> str:
    """One reference as a BibTeX entry (authors and fields round-trip through our reader)."""
    authors = reference.ordered_authors
    texts = [
        reference.title,
        reference.journal,
        reference.publisher,
        reference.volume,
        reference.issue,
        reference.pages,
        reference.doi,
        reference.pmid,
        reference.pmcid,
        reference.notes,
    ]
    for author in authors:
        texts += (author.family, author.given)
    # Most entries have no character that escaping would change in any of these values: one
    # search over all of them then spares a search per value (the escaping functions give
    # such values back unchanged, so the entry is the same either way; kind and role are
    # choice values with '_' and are always passed through).
    if _needs_escaping("\x00".join(texts)):
        escape, identifier = _bibtex_escape, _bibtex_identifier
    else:
        escape = identifier = _as_is
    names = [_bibtex_name(a, escape) for a in authors]
    if reference.authors_truncated:
        names.append("others")
    fields = [
        ("author", " and ".join(names)),
        ("title", escape(reference.title)),
        ("journal", escape(reference.journal)),
        ("publisher", escape(reference.publisher)),
        ("year", str(reference.year or "")),
        ("volume", escape(reference.volume)),
        ("number", escape(reference.issue)),
        ("pages", identifier(reference.pages.replace("–", "--"))),
        ("doi", identifier(reference.doi)),
        ("pmid", identifier(reference.pmid)),
        ("pmcid", identifier(reference.pmcid)),
        ("url", _bibtex_url(reference.url)),
        ("reviewnumber", str(reference.number or "")),
        ("kind", _choice_identifier(reference.kind)),
        ("role", _choice_identifier(reference.role)),
        (
            "idsources",
            " ".join(
                _bibtex_url(u).replace(" ", "%20") for u in reference.identifier_sources or []
            ),
        ),
        ("annote", escape(reference.notes)),
    ]
    return _entry_text(
        BIBTEX_TYPES.get(reference.kind, "misc"),
        bibtex_key(reference),
        [(k, "{" + v + "}") for k, v in fields if v],
    )


def _entry_text(entry_type: str, key: str, fields: list[tuple[str, str]]) -> str:
    """An entry laid out as bibtexparser's writer lays it out with ``_FORMAT`` (two-space
    indent, ``key = value``, no trailing comma), then a blank line.

    Written by hand: bibtexparser builds a Library per entry (checking its key) and was half of
    the full export's time (1.4 MB/s at +100k studies, bench/RESULTS.md), while the layout is
    these few lines. tests/references/test_export_bibtex.py checks that bibtexparser gives the
    same text for every reference of the corpus and for an entry of one field and of none.
    """
    body = ",\n".join([f"{_INDENT}{name} = {value}" for name, value in fields])
    return f"@{entry_type}{{{key},\n{body}{chr(10) if body else ''}}}\n\n"


# The fields of a reference the writers read, and of each of its authors.
RECORD_FIELDS = (
    "pk",
    "kind",
    "bibtex_key",
    "authors_truncated",
    "title",
    "journal",
    "publisher",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "pmcid",
    "url",
    "number",
    "role",
    "notes",
    # identifier_sources, read as its JSON text (_SOURCES): nearly always '[]'.
)
_SOURCES = "identifier_sources_text"
_AUTHORS = "authors_json"
# An author as the writers read one: family, given names, corporate or not.
_Author = namedtuple("_Author", "family given is_corporate")


def _authors(text: str | None) -> list:
    return [_Author(family, given, bool(corp)) for family, given, corp in json_rows(text)]


def _records(references: QuerySet[Reference]) -> Iterator[SimpleNamespace]:
    """The references of ``references``, in its order, as light records with the attributes
    the writers read (``ordered_authors`` included), from plain values read per batch: a full
    export built model instances with their authors at about 1 MB/s. Memory stays flat: one
    batch at a time, read through a server-side cursor (``core.streaming``)."""
    # The sources as text, decoded here only when there are some: Django's JSON field decodes
    # every row's value, a tenth of the export's time for lists that are nearly all empty.
    annotated = references.annotate(
        **{
            _SOURCES: Cast("identifier_sources", TextField()),
            _AUTHORS: RowsAsJSON(
                Author.objects.filter(reference=OuterRef("pk")).order_by("position"),
                ("family", "given", "is_corporate"),
            ),
        }
    )
    for rows in value_batches(annotated, (*RECORD_FIELDS, _SOURCES, _AUTHORS), BATCH_ROWS):
        for row in rows:
            # Taken out before ``**row`` is expanded: the record keeps only decoded values.
            sources, authors = row.pop(_SOURCES), row.pop(_AUTHORS)
            yield SimpleNamespace(
                **row, identifier_sources=json_rows(sources), ordered_authors=_authors(authors)
            )
        # Let go of this batch before the next is read: otherwise two batches are held at
        # once (the loop names are rebound only once the next batch has been built), and
        # peak memory doubles from the second batch on (bench/export_memory.py).
        del rows


def _rows(references: Iterable[Reference] | QuerySet[Reference]) -> Iterable:
    """What a writer iterates: a queryset read as light records, anything else as given (a
    list of instances with their authors, e.g. one reference)."""
    return _records(references) if isinstance(references, QuerySet) else references


def to_bibtex(references: Iterable[Reference] | QuerySet[Reference]) -> Iterator[str]:
    for reference in _rows(references):
        yield bibtex_entry(reference)


def ris_record(reference: Reference) -> str:
    lines = [("TY", RIS_TYPES.get(reference.kind, "GEN"))]
    for author in reference.ordered_authors:
        name = (
            author.family
            if author.is_corporate or not author.given
            else f"{author.family}, {author.given}"
        )
        lines.append(("AU", name))
    lines.append(("TI", reference.title))
    if reference.journal:
        lines.append(
            ("T2" if reference.kind == ReferenceKind.BOOK_CHAPTER else "JO", reference.journal)
        )
    if reference.year:
        lines.append(("PY", str(reference.year)))
    for tag, value in (
        ("VL", reference.volume),
        ("IS", reference.issue),
        ("PB", reference.publisher),
    ):
        if value:
            lines.append((tag, value))
    if reference.pages:
        start, _, end = reference.pages.replace("--", "–").partition("–")
        lines.append(("SP", start))
        if end:
            lines.append(("EP", end))
    if reference.doi:
        lines.append(("DO", reference.doi))
    if reference.pmid:
        lines.append(("AN", f"PMID:{reference.pmid}"))
    if reference.pmcid:
        # C2 is where NCBI's own RIS export (and Zotero's reader) put the PMCID.
        lines.append(("C2", reference.pmcid))
    if reference.url:
        lines.append(("UR", reference.url))
    if reference.notes:
        lines.append(("N1", reference.notes))
    lines.append(("ER", ""))
    # One line per tag, whatever the value holds: a title with "\nER  - \nTY  - JOUR" in it
    # must not end the record and start another.
    return (
        "".join(
            f"{tag}  - {' '.join(one_line(value).split())}".rstrip() + "\r\n"
            for tag, value in lines
        )
        + "\r\n"
    )


def to_ris(references: Iterable[Reference] | QuerySet[Reference]) -> Iterator[str]:
    for reference in _rows(references):
        yield ris_record(reference)


def csl_item(reference: Reference) -> dict:
    """One reference as a CSL-JSON item (the format citeproc and Zotero read)."""
    item: dict = {
        "id": reference.bibtex_key,
        "type": CSL_TYPES.get(reference.kind, "document"),
        "title": reference.title,
        "author": [
            {"literal": a.family}
            if a.is_corporate or not a.given
            else {"family": a.family, "given": a.given}
            for a in reference.ordered_authors
        ],
    }
    if reference.journal:
        item["container-title"] = reference.journal
    if reference.year:
        item["issued"] = {"date-parts": [[reference.year]]}
    for key, value in (
        ("volume", reference.volume),
        ("issue", reference.issue),
        ("page", reference.pages.replace("--", "–")),
        ("DOI", reference.doi),
        ("PMID", reference.pmid),
        ("PMCID", reference.pmcid),
        ("URL", reference.url),
        ("publisher", reference.publisher),
        ("note", reference.notes),
    ):
        if value:
            item[key] = value
    if reference.number:
        item["citation-number"] = reference.number
    return item


def to_csljson(references: Iterable[Reference] | QuerySet[Reference]) -> Iterator[str]:
    """A JSON array streamed item by item."""
    yield "["
    for index, reference in enumerate(_rows(references)):
        yield ("," if index else "") + "\n" + json.dumps(csl_item(reference), ensure_ascii=False)
    yield "\n]\n"


# Writer of each citation format, keyed by its name in the site's table of formats
# (core.formats: media type, extension, label); views, the API, the admin and the releases
# look writers up here.
WRITERS = {
    "bibtex": to_bibtex,
    "ris": to_ris,
    "csljson": to_csljson,
}
