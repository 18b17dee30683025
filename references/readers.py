"""Reading RIS, Web of Science and PubMed/MEDLINE (.nbib) exports into ``ParsedReference``.

rispy reads the tagged lines (RIS with its ``RisParser``, Web of Science with its ``WokParser``,
MEDLINE with the small ``MedlineParser`` implementation below, built on rispy's documented
interface for custom formats: rispy ships no MEDLINE mapping). This module then maps each
record's fields onto ours, the same ``ParsedReference`` the BibTeX reader gives, so matching,
merging and saving are shared by every format (``references.importer``). Like the BibTeX reader
it checks every record and collects *all* problems before refusing a file.

Conventions (so that a record of the same work reads the same whatever the format):
- page ranges are stored with an en dash ("52–57"), as the BibTeX reader decodes "52--57";
- PubMed ends every title with a full stop (NLM's convention, not the authors'); it is removed,
  as the corpus writes titles without it. A "?" or "!" stays;
- a name without a comma is a corporate author (RIS: Zotero writes one-field creators so;
  MEDLINE: CN, the collective name); "Family, Given" otherwise;
- the journal is the abbreviation where the format gives one (MEDLINE TA, Web of Science JI;
  the corpus uses "Arthritis Rheum"), else the full title.
"""

from __future__ import annotations

import re
import unicodedata
from typing import ClassVar

import rispy

from references.bibtex import MAX_AUTHORS, ParsedAuthor, ParsedReference, ParseResult
from references.choices import ReferenceKind
from references.validators import DOI_RE, PMCID_RE, PMID_RE, normalise_doi

BIBTEX, RIS, WOS, MEDLINE = "bibtex", "ris", "wos", "medline"
FORMAT_LABELS = {BIBTEX: "BibTeX", RIS: "RIS", WOS: "Web of Science", MEDLINE: "PubMed (MEDLINE)"}
EXTENSIONS = {".bib": BIBTEX, ".bibtex": BIBTEX, ".ris": RIS, ".nbib": MEDLINE, ".medline": MEDLINE}

START_HINTS = {BIBTEX: "'@article{'", RIS: "'TY  - '", WOS: "'PT '", MEDLINE: "'PMID- '"}
_RIS_START_RE = re.compile(r"^TY  -", re.M)
_WOS_START_RE = re.compile(r"^PT ", re.M)
_MEDLINE_START_RE = re.compile(r"^PMID-", re.M)
_BIBTEX_RE = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)
_YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_RANGE_RE = re.compile(r"^\s*(\S+?)\s*(?:-|–|--)\s*(\S+)\s*$")
_TITLE_STOPWORDS = {"a", "an", "the", "of", "on", "in", "and", "for", "to", "with", "at", "by"}

# RIS reference types (TY) and Web of Science publication types (PT) that say more than
# "something else".
RIS_TYPE_KIND = {
    "JOUR": ReferenceKind.JOURNAL_ARTICLE,
    "JFULL": ReferenceKind.JOURNAL_ARTICLE,
    "EJOUR": ReferenceKind.JOURNAL_ARTICLE,
    "MGZN": ReferenceKind.JOURNAL_ARTICLE,
    "JOURNAL ARTICLE": ReferenceKind.JOURNAL_ARTICLE,
    "ABST": ReferenceKind.CONFERENCE_ABSTRACT,
    "BOOK": ReferenceKind.BOOK,
    "EBOOK": ReferenceKind.BOOK,
    "EDBOOK": ReferenceKind.BOOK,
    "CHAP": ReferenceKind.BOOK_CHAPTER,
    "ECHAP": ReferenceKind.BOOK_CHAPTER,
    "CONF": ReferenceKind.CONFERENCE_PAPER,
    "CPAPER": ReferenceKind.CONFERENCE_PAPER,
    "THES": ReferenceKind.THESIS,
    "RPRT": ReferenceKind.REPORT,
    "ELEC": ReferenceKind.ONLINE,
    "WEB": ReferenceKind.ONLINE,
    "BLOG": ReferenceKind.ONLINE,
}
WOS_TYPE_KIND = {
    "J": ReferenceKind.JOURNAL_ARTICLE,
    "B": ReferenceKind.BOOK,
    "S": ReferenceKind.BOOK,
}


class ReadError(ValueError):
    """The file was not read; ``problems`` lists every reason, each naming its record."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def detect_format(text: str, name: str = "") -> str:
    """BIBTEX, RIS, WOS or MEDLINE, from the content (an extension can lie, ".txt" says
    nothing); the extension decides only between formats the content fits."""
    head = text.lstrip("\ufeff")
    fits = []
    if _MEDLINE_START_RE.search(head):
        fits.append(MEDLINE)
    if _RIS_START_RE.search(head):
        fits.append(RIS)
    if head.lstrip().startswith(("FN ", "PT ")) and _WOS_START_RE.search(head):
        fits.append(WOS)
    if _BIBTEX_RE.search(head):
        fits.append(BIBTEX)
    by_extension = next(
        (fmt for ext, fmt in EXTENSIONS.items() if name.lower().endswith(ext)), None
    )
    if by_extension in fits:
        return by_extension
    if by_extension == RIS and WOS in fits:
        return WOS  # Web of Science saves its "RIS-like" export as .ris or .txt
    if fits and by_extension is None:
        return fits[0]
    label = f"“{name}”" if name else "The file"
    if by_extension:
        expected = (
            f"a {FORMAT_LABELS[by_extension]} file: no line starts a record as "
            f"{START_HINTS[by_extension]} does"
        )
    else:
        expected = (
            "a BibTeX, RIS or PubMed (MEDLINE) file: no line starts a record as "
            + ", ".join(
                f"{hint} ({FORMAT_LABELS[fmt]})" for fmt, hint in START_HINTS.items() if fmt != WOS
            )
            + " does"
        )
    raise ReadError([f"{label} is not {expected}."])


class MedlineParser(rispy.RisParser):
    """PubMed's MEDLINE format: 'TAG - value', a tag of up to four letters padded to four,
    continuation lines indented by six spaces, records separated by a blank line."""

    START_TAG = "PMID"
    END_TAG = "ER"  # what parse_line returns for the blank line that ends a record
    DEFAULT_MAPPING: ClassVar[dict] = {
        "PMID": "pmid",
        "TI": "title",
        "BTI": "book_title",
        "FAU": "full_authors",
        "CN": "full_authors",
        "AU": "authors",
        "DP": "date",
        "TA": "journal_abbreviation",
        "JT": "journal",
        "VI": "volume",
        "IP": "issue",
        "PG": "pages",
        "LID": "location_ids",
        "AID": "article_ids",
        "PMC": "pmcid",
        "PT": "publication_types",
        "PB": "publisher",
        "UK": "unknown_tag",
    }
    # FAU and CN share one list so that persons and collective names keep their order.
    DEFAULT_LIST_TAGS: ClassVar[list[str]] = ["FAU", "CN", "AU", "LID", "AID", "PT"]
    DEFAULT_DELIMITER_MAPPING: ClassVar[dict] = {}

    def __init__(self, **kw):
        super().__init__(skip_unknown_tags=True, **kw)

    def parse(self, text: str) -> list[dict]:
        # rispy keeps a record only when its end tag is read: end the last one too.
        return super().parse(text + "\n\n")

    def parse_line(self, line: str):
        if not line.strip():
            return (self.END_TAG, "")
        if (
            len(line) >= 5
            and line[4] == "-"
            and line[:4].rstrip().isalnum()
            and not line[:1].isspace()
        ):
            return (line[:4].rstrip(), line[6:].strip())
        return (None, line.strip())

    def _add_tag(self, record, tag, content, extend_multiline=False):
        # A wrapped value of a list tag (a long collective name, an identifier) continues the
        # last item; rispy would start a new item with it.
        name = self.mapping.get(tag)
        if extend_multiline and tag in self.list_tags and record.get(name):
            record[name][-1] = f"{record[name][-1]} {content}"
            return
        super()._add_tag(record, tag, content, extend_multiline=extend_multiline)


def read_records(text: str, fmt: str, *, max_records: int) -> ParseResult:
    """Read RIS, WOS or MEDLINE text, or raise ``ReadError`` listing every problem."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    start_re, parser = {
        RIS: (_RIS_START_RE, rispy.RisParser),
        WOS: (_WOS_START_RE, rispy.WokParser),
        MEDLINE: (_MEDLINE_START_RE, MedlineParser),
    }[fmt]
    starts = [text.count("\n", 0, match.start()) + 1 for match in start_re.finditer(text)]
    if not starts:
        raise ReadError([f"The file has no {FORMAT_LABELS[fmt]} records."])
    if len(starts) > max_records:
        raise ReadError(
            [
                f"The file has {len(starts):,} records; at most {max_records:,} are "
                "imported at once. Split it into smaller files."
            ]
        )
    problems = _unended_records(text, fmt, starts)
    if problems:
        raise ReadError(problems)
    records = rispy.loads(text, implementation=parser)
    if len(records) != len(starts):  # the checks above should make this impossible
        raise ReadError(
            [
                f"The file has {len(starts)} records but {len(records)} could be "
                "read; check that every record ends as the format requires."
            ]
        )
    references: list[ParsedReference] = []
    for number, (record, line) in enumerate(zip(records, starts, strict=True), start=1):
        where = f"record {number} (line {line})"
        try:
            references.append(
                {RIS: _from_ris, WOS: _from_wos, MEDLINE: _from_medline}[fmt](
                    record, line=line, where=where
                )
            )
        except _RecordProblems as exc:
            problems.extend(exc.problems)
    if problems:
        raise ReadError(problems)
    return ParseResult(references=references, skipped=[])


def _unended_records(text: str, fmt: str, starts: list[int]) -> list[str]:
    """Records that do not end before the next begins (rispy would merge them into one, or
    drop the last one silently)."""
    lines = text.split("\n")
    problems = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
        body = lines[start:end]  # the lines after the start line, up to the next record
        if fmt == RIS and not any(line.startswith("ER  -") for line in body):
            problems.append(
                f"record {index + 1} (line {start}) does not end with an "
                "'ER  - ' line before the next record or the end of the file"
            )
        elif (
            fmt == WOS
            and index + 1 < len(starts)
            and not any(line.rstrip() == "ER" for line in body)
        ):
            problems.append(
                f"record {index + 1} (line {start}) does not end with an 'ER' "
                "line before the next record"
            )
        elif (
            fmt == MEDLINE
            and index + 1 < len(starts)
            and not any(not line.strip() for line in body)
        ):
            problems.append(
                f"record {index + 1} (line {start}) is not separated from the next by a blank line"
            )
    return problems


class _RecordProblems(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems


def _first(record: dict, *names: str) -> str:
    """The first non-empty value among ``names`` (a list gives its first item)."""
    for name in names:
        value = record.get(name)
        if isinstance(value, list):
            value = next((item for item in value if item and item.strip()), "")
        if value and value.strip():
            return " ".join(value.split())
    return ""


def _names(values: list[str]) -> list[ParsedAuthor]:
    authors = []
    for value in values:
        value = " ".join(value.split())
        if not value:
            continue
        family, comma, given = value.partition(",")
        if not comma:
            authors.append(ParsedAuthor(family=value, is_corporate=True))
            continue
        # RIS allows "Family, Given, Suffix": the suffix (Jr, III) follows the given names.
        given = ", ".join(part.strip() for part in given.split(",") if part.strip())
        authors.append(ParsedAuthor(family=family.strip(), given=given))
    return authors


def _pages(start: str, end: str = "") -> str:
    start, end = start.strip(), end.strip()
    if start and end and end != start:
        return f"{start}–{end}"
    match = _RANGE_RE.match(start)
    return f"{match.group(1)}–{match.group(2)}" if match else start


def _year(raw: str, where: str, problems: list[str]) -> int | None:
    if not raw:
        return None
    match = _YEAR_RE.search(raw)
    if not match or not 1000 <= int(match.group(1)) <= 2100:
        problems.append(f"{where}: year '{raw}' is not a year such as 2013")
        return None
    return int(match.group(1))


def _key(authors: list[ParsedAuthor], year: int | None, title: str, line: int) -> str:
    """A BibTeX key as the corpus makes them (oddis2013rituximab): first author's family
    name, year, first word of the title that is not a little word; ASCII letters only."""

    def ascii_word(text: str) -> str:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]", "", plain.lower())

    family = ascii_word(authors[0].family.split()[0]) if authors and authors[0].family else ""
    words = [ascii_word(word) for word in title.split()]
    word = next((w for w in words if w and w not in _TITLE_STOPWORDS), "")
    key = f"{family}{year or ''}{word}"[:60]
    return key if key and key[0].isalnum() and (family or word) else f"record-line{line}"


def _finish(
    record_values: dict, *, where: str, line: int, problems: list[str], present: set[str]
) -> ParsedReference:
    """Check identifiers and the title, then build the reference (shared by all formats)."""
    values = record_values
    if not values["title"]:
        problems.append(f"{where}: has no title")
    if len(values["authors"]) > MAX_AUTHORS:
        problems.append(
            f"{where}: has {len(values['authors']):,} authors; at most {MAX_AUTHORS:,} are accepted"
        )
    doi = normalise_doi(values.get("doi", ""))
    if doi and not DOI_RE.match(doi):
        problems.append(f"{where}: DOI '{doi}' does not look like 10.<registrant>/<suffix>")
    pmid = values.get("pmid", "")
    if pmid and not PMID_RE.match(pmid):
        problems.append(f"{where}: PMID '{pmid}' is not 1 to 8 digits")
    pmcid = values.get("pmcid", "").upper()
    if pmcid and not PMCID_RE.match(pmcid):
        problems.append(f"{where}: PMCID '{pmcid}' is not PMC followed by digits")
    if problems:
        raise _RecordProblems(problems)
    values.update(doi=doi, pmid=pmid, pmcid=pmcid)
    present = {name for name in present if values.get(name)}
    # RIS, MEDLINE and Web of Science cannot say "et al.": ``authors_truncated`` is never
    # theirs to clear (the importer decides it from the stored authors).
    if values["authors"]:
        present.add("authors")
    # "Journal article" (RIS JOUR, a MEDLINE record with a journal) says no more than BibTeX's
    # @article: a curated guideline or abstract stays one. A finer type is the record's word.
    if values.get("kind") and values["kind"] != ReferenceKind.JOURNAL_ARTICLE:
        present.add("kind")
    fields = {name: value for name, value in values.items() if name != "kind" or value}
    return ParsedReference(
        key=_key(values["authors"], values.get("year"), values["title"], line),
        entry_type="",
        line=line,
        present=present,
        **fields,
    )


_PRESENT = {
    "title",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "publisher",
    "doi",
    "pmid",
    "pmcid",
    "url",
}


def _from_ris(record: dict, *, line: int, where: str) -> ParsedReference:
    problems: list[str] = []
    unknown = record.get("unknown_tag") or {}
    ris_type = (record.get("type_of_reference") or "").strip().upper()
    urls = record.get("urls") or []
    values = {
        # ST (short title) when the record has no other: some exports (this one from a
        # Russian database) put the only title there.
        "title": _first(record, "title", "primary_title", "short_title"),
        "authors": _names(record.get("authors") or record.get("first_authors") or []),
        "year": _year(_first(record, "year", "publication_year", "date"), where, problems),
        # T2 is the journal of a JOUR record; JO, JF, JA, J2 are what other tools write.
        "journal": _first(
            record,
            "secondary_title",
            "journal_name",
            "alternate_title3",
            "alternate_title2",
            "alternate_title1",
        ),
        # VO: an old spelling of VL that some exports (this one from a Russian database) use.
        "volume": _first(record, "volume") or _first(unknown, "VO"),
        "issue": _first(record, "number"),
        "pages": _pages(_first(record, "start_page"), _first(record, "end_page")),
        "publisher": _first(record, "publisher"),
        "doi": _first(record, "doi"),
        "url": next((url.strip() for url in urls if url.strip()), ""),
    }
    if ris_type in RIS_TYPE_KIND:
        values["kind"] = RIS_TYPE_KIND[ris_type]
    return _finish(values, where=where, line=line, problems=problems, present=_PRESENT)


def _from_wos(record: dict, *, line: int, where: str) -> ParsedReference:
    problems: list[str] = []
    pages = _pages(_first(record, "beginning_page"), _first(record, "ending_page")) or _first(
        record, "article_number"
    )
    values = {
        "title": _first(record, "document_title"),
        # Persons (AF, else AU), then the group authors (CA: "RIM Study Grp").
        "authors": _names(record.get("author_full_name") or record.get("authors") or [])
        + [
            ParsedAuthor(family=" ".join(name.split()), is_corporate=True)
            for name in record.get("group_authors") or []
            if name.strip()
        ],
        "year": _year(_first(record, "publication_year"), where, problems),
        "journal": _first(record, "iso_source_abbreviation", "publication_name"),
        "volume": _first(record, "volume"),
        "issue": _first(record, "issue"),
        "pages": pages,
        "publisher": _first(record, "publisher"),
        "doi": _first(record, "doi"),
        "pmid": _first(record, "pubmed_id"),
    }
    wos_type = _first(record, "publication_type").upper()
    if wos_type in WOS_TYPE_KIND:
        values["kind"] = WOS_TYPE_KIND[wos_type]
    return _finish(values, where=where, line=line, problems=problems, present=_PRESENT)


def _medline_id(record: dict, kind: str) -> str:
    """An identifier of ``kind`` from the LID/AID lines ('10.1016/j.x.2019.03.004 [doi]')."""
    for value in (record.get("location_ids") or []) + (record.get("article_ids") or []):
        identifier, _, label = value.strip().rpartition(" ")
        if label == f"[{kind}]":
            return identifier.strip()
    return ""


def _elocation(record: dict) -> str:
    """The LID without a label: the article number that online journals give instead of
    pages (eLife's 'e80092')."""
    return next(
        (
            value.strip()
            for value in record.get("location_ids") or []
            if value.strip() and not value.strip().endswith("]")
        ),
        "",
    )


def _from_medline(record: dict, *, line: int, where: str) -> ParsedReference:
    problems: list[str] = []
    title = _first(record, "title", "book_title")
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    # FAU (persons) and CN (groups, no comma) share one list, in their order.
    people = record.get("full_authors") or []
    if not any("," in name for name in people):
        # Records before 2002 have only the short form of persons, "Oddis CV" (AU); their
        # groups (CN) follow them.
        people = [
            " ".join(name.rsplit(" ", 1)[:1]) + ", " + name.rsplit(" ", 1)[1]
            if " " in name.strip()
            else name
            for name in record.get("authors") or []
        ] + people
    values = {
        "title": title,
        "authors": _names(people),
        "year": _year(_first(record, "date"), where, problems),
        "journal": _first(record, "journal_abbreviation", "journal"),
        "volume": _first(record, "volume"),
        "issue": _first(record, "issue"),
        "pages": _pages(_first(record, "pages")) or _elocation(record),
        "publisher": _first(record, "publisher"),
        "doi": _medline_id(record, "doi"),
        "pmid": _first(record, "pmid"),
        "pmcid": _first(record, "pmcid"),
    }
    if values["journal"]:
        values["kind"] = ReferenceKind.JOURNAL_ARTICLE
    return _finish(values, where=where, line=line, problems=problems, present=_PRESENT)
