"""Reading BibTeX/biblatex into plain records (bibtexparser v2 does the parsing).

The parser resolves ``@string`` macros; this module then splits names on the raw text (so a
braced group such as ``{Muscle Study Group}`` stays one corporate author), decodes LaTeX to
Unicode, maps biblatex fields (``journaltitle``, ``date``) onto ours, inherits missing fields
through ``crossref``, and checks every entry, collecting *all* problems before refusing a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import bibtexparser
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import Entry, ImplicitComment, ParsingFailedBlock
from django.core.exceptions import ValidationError
from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from core.validators import validate_http_url_list
from references.choices import ReferenceKind, ReferenceRole
from references.validators import BIBTEX_KEY_RE, DOI_RE, PMCID_RE, PMID_RE, normalise_doi

# What ``\newline`` decodes to until whitespace is folded: a private-use character, which no
# reference text contains and ``str.split`` does not take for whitespace.
_LINE_BREAK_MARK = "\ue000"


def _latex_converter() -> tuple[LatexNodes2Text, macrospec.LatexContextDb]:
    """pylatexenc, taught the biblatex and TeX-logo macros that bibliographies use."""
    text_db = get_default_latex_context_db()
    text_db.add_context_category(
        "biblatex",
        prepend=True,
        macros=[
            MacroTextSpec("TeX", simplify_repl="TeX"),
            MacroTextSpec("LaTeX", simplify_repl="LaTeX"),
            MacroTextSpec("BibTeX", simplify_repl="BibTeX"),
            MacroTextSpec("METAFONT", simplify_repl="METAFONT"),
            MacroTextSpec("hyphen", simplify_repl="-"),
            MacroTextSpec("hyphenate", simplify_repl="-"),
            MacroTextSpec("relax", simplify_repl=""),
            # What our exports write for a brace that has no partner (see formats._bibtex_escape).
            MacroTextSpec("textbraceleft", simplify_repl="{"),
            MacroTextSpec("textbraceright", simplify_repl="}"),
            # The caret our exports escape (pylatexenc's own is the modifier letter U+02C6).
            MacroTextSpec("textasciicircum", simplify_repl="^"),
            # A line break in a value (a curator's note): kept, where other whitespace folds.
            MacroTextSpec("newline", simplify_repl=_LINE_BREAK_MARK),
            MacroTextSpec("mkbibquote", simplify_repl="\u201c%s\u201d"),
            MacroTextSpec("enquote", simplify_repl="\u201c%s\u201d"),
            MacroTextSpec("mkbibemph", simplify_repl="%s"),
            MacroTextSpec("mkbibitalic", simplify_repl="%s"),
            MacroTextSpec("mkbibbold", simplify_repl="%s"),
            MacroTextSpec("autocap", simplify_repl="%s"),
        ],
    )
    walker_db = latexwalker.get_default_latex_context_db()
    walker_db.add_context_category(
        "biblatex",
        prepend=True,
        macros=[
            macrospec.MacroSpec(name, "{")
            for name in (
                "mkbibquote",
                "enquote",
                "mkbibemph",
                "mkbibitalic",
                "mkbibbold",
                "autocap",
            )
        ]
        + [
            macrospec.MacroSpec(name, "")
            for name in (
                "TeX",
                "LaTeX",
                "BibTeX",
                "METAFONT",
                "hyphen",
                "hyphenate",
                "relax",
                "textbraceleft",
                "textbraceright",
            )
        ],
    )
    return LatexNodes2Text(
        latex_context=text_db, math_mode="text", strict_latex_spaces=True
    ), walker_db


_LATEX, _LATEX_WALKER_DB = _latex_converter()

ENTRY_TYPE_KIND = {
    "article": ReferenceKind.JOURNAL_ARTICLE,
    "book": ReferenceKind.BOOK,
    "mvbook": ReferenceKind.BOOK,
    "collection": ReferenceKind.BOOK,
    "mvcollection": ReferenceKind.BOOK,
    "inbook": ReferenceKind.BOOK_CHAPTER,
    "incollection": ReferenceKind.BOOK_CHAPTER,
    "bookinbook": ReferenceKind.BOOK_CHAPTER,
    "inproceedings": ReferenceKind.CONFERENCE_PAPER,
    "conference": ReferenceKind.CONFERENCE_PAPER,
    "proceedings": ReferenceKind.BOOK,
    "thesis": ReferenceKind.THESIS,
    "phdthesis": ReferenceKind.THESIS,
    "mastersthesis": ReferenceKind.THESIS,
    "report": ReferenceKind.REPORT,
    "techreport": ReferenceKind.REPORT,
    "online": ReferenceKind.ONLINE,
    "www": ReferenceKind.ONLINE,
    "electronic": ReferenceKind.ONLINE,
    "mvproceedings": ReferenceKind.BOOK,
    "reference": ReferenceKind.BOOK,
    "mvreference": ReferenceKind.BOOK,
    "booklet": ReferenceKind.BOOK,
    "inreference": ReferenceKind.BOOK_CHAPTER,
    "suppbook": ReferenceKind.BOOK_CHAPTER,
    "suppcollection": ReferenceKind.BOOK_CHAPTER,
}
# Entry types that group or hold data for other entries rather than describe a work.
NON_WORK_TYPES = {"set", "xdata"}
YEAR_RE = re.compile(r"^(\d{4})(?:[-/].*)?$")
TRUNCATION_MARKERS = {"others", "et al", "et al."}
# More authors than any clinical paper lists; a longer list is refused rather than saved as
# thousands of rows (consortium papers: list the first ones, then "and others").
MAX_AUTHORS = 1000
# BibTeX's predefined @string macros.
MONTH_MACROS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}
# Fields this module reads; an undefined @string macro in one of them is an error (elsewhere
# it does not matter to us).
USED_FIELDS = {
    "title",
    "subtitle",
    "author",
    "editor",
    "year",
    "date",
    "journal",
    "journaltitle",
    "booktitle",
    "volume",
    "number",
    "issue",
    "pages",
    "publisher",
    "institution",
    "school",
    "doi",
    "pmid",
    "pmcid",
    "eprint",
    "eprinttype",
    "url",
    "reviewnumber",
    "kind",
    "role",
    "annote",
    "idsources",
    "crossref",
}
# Which Reference fields each BibTeX field provides (``ParsedReference.present``).
PROVIDES = {
    "title": "title",
    "author": "authors",
    "editor": "authors",
    "year": "year",
    "date": "year",
    "journal": "journal",
    "journaltitle": "journal",
    "booktitle": "journal",
    "volume": "volume",
    "number": "issue",
    "issue": "issue",
    "pages": "pages",
    "publisher": "publisher",
    "institution": "publisher",
    "school": "publisher",
    "doi": "doi",
    "pmid": "pmid",
    "pmcid": "pmcid",
    "url": "url",
    "kind": "kind",
    "role": "role",
    "reviewnumber": "number",
    "annote": "notes",
    "idsources": "identifier_sources",
}
# Matched against one line with its leading whitespace stripped. (The earlier pattern,
# r"^\s*[A-Za-z][\w-]*\s*=" over the whole text in MULTILINE mode, let \s* run across line
# ends: on many blank lines it backtracked quadratically and held a worker for a minute.)
_FIELD_START_RE = re.compile(r"[A-Za-z][\w-]*[ \t]*=")
# bibtexparser walks every brace, quote, comma, '=' and line end in Python (about 2 us each),
# and pylatexenc decodes LaTeX at about 25 us a special character. A bibliography of 1000
# entries has some 150,000 of the first and 30,000 of the second; about twice that keeps the
# worst file the size limit allows to a couple of seconds instead of minutes.
MAX_MARKS = 500_000
MAX_LATEX_SPECIALS = 60_000
MAX_BLOCKS = 10_000
# An @string or field value longer than this after macro expansion is refused ('a # a' macros
# doubling at each definition would otherwise reach gigabytes).
MAX_EXPANDED_CHARS = 100_000
_LATEX_SPECIALS = "\\{}$~-"
# Real titles nest braces two or three deep; pylatexenc recurses once per level.
MAX_BRACE_DEPTH = 100
_NOT_BRACES_RE = re.compile(r"[^{}]+")
_BLOCK_START_RE = re.compile(r"^[ \t]*@", re.MULTILINE)
_FAILED_KEY_RE = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]*)")


class BibtexError(ValueError):
    """A file that cannot be imported; ``problems`` lists every reason, each naming its entry."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class ParsedAuthor:
    family: str
    given: str = ""
    is_corporate: bool = False


@dataclass
class ParsedReference:
    """One work read from a BibTeX entry, with fields already mapped onto ``Reference``."""

    key: str
    entry_type: str
    line: int
    title: str
    authors: list[ParsedAuthor] = field(default_factory=list)
    authors_truncated: bool = False
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    publisher: str = ""
    doi: str = ""
    pmid: str = ""
    pmcid: str = ""
    url: str = ""
    kind: str = ReferenceKind.JOURNAL_ARTICLE
    role: str = ""
    number: int | None = None
    notes: str = ""
    identifier_sources: list[str] = field(default_factory=list)
    # The Reference fields the entry itself gave ("authors" for the author list); an importer
    # updating an existing reference leaves the others as they are.
    present: set[str] = field(default_factory=set)

    def model_fields(self) -> dict:
        """Keyword arguments for ``Reference`` (authors are separate rows)."""
        return {
            "bibtex_key": self.key,
            "title": self.title,
            "year": self.year,
            "journal": self.journal,
            "volume": self.volume,
            "issue": self.issue,
            "pages": self.pages,
            "publisher": self.publisher,
            "doi": self.doi,
            "pmid": self.pmid,
            "pmcid": self.pmcid,
            "url": self.url,
            "kind": self.kind,
            "role": self.role,
            "number": self.number,
            "notes": self.notes,
            "authors_truncated": self.authors_truncated,
            "identifier_sources": self.identifier_sources,
        }


@dataclass
class ParseResult:
    references: list[ParsedReference]
    skipped: list[str]


def decode(value: str) -> str:
    """LaTeX to Unicode, whitespace folded ('{\\"u}' -> 'ü', '--' -> '–'); ``\\newline`` is a
    line break."""
    if any(char in value for char in "\\{-~$"):
        text = _LATEX.latex_to_text(value, latex_context=_LATEX_WALKER_DB)
    else:
        text = value
    lines = text.replace("\xa0", " ").split(_LINE_BREAK_MARK)
    return "\n".join(" ".join(line.split()) for line in lines)


def parse_names(raw: str) -> tuple[list[ParsedAuthor], bool]:
    """Split an author field; a name wholly in braces is corporate; 'and others' truncates."""
    authors: list[ParsedAuthor] = []
    truncated = False
    for name in split_multiple_persons_names(raw):
        name = name.strip()
        if not name:
            continue
        if name.lower() in TRUNCATION_MARKERS:
            truncated = True
            continue
        if name.startswith("{") and name.endswith("}") and _balanced_inner(name):
            authors.append(ParsedAuthor(family=decode(name[1:-1]), is_corporate=True))
            continue
        parts = parse_single_name_into_parts(name, strict=True)
        family = decode(" ".join(parts.von + parts.last))
        given = decode(" ".join(parts.first))
        if parts.jr:
            given = f"{given}, {decode(' '.join(parts.jr))}".strip(", ")
        authors.append(ParsedAuthor(family=family, given=given))
    return authors, truncated


def _balanced_inner(name: str) -> bool:
    """True when the outer braces enclose the whole name ('{A} and {B}' is not one group)."""
    depth = 0
    for index, char in enumerate(name):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and index < len(name) - 1:
            return False
    return True


def _check_cost(text: str, max_blocks: int) -> None:
    """Refuse, before parsing, a file that would keep the parser busy far longer than any
    bibliography of its size (counted with str.count and one linear regex: C speed)."""
    marks = sum(text.count(char) for char in '{}",=\n')
    if marks > MAX_MARKS:
        raise BibtexError(
            [
                f"The file has {marks:,} braces, quotes, commas, '=' signs and line breaks; "
                f"at most {MAX_MARKS:,} are read (far more than a bibliography of this size needs)."
            ]
        )
    blocks = sum(1 for _ in _BLOCK_START_RE.finditer(text))
    if blocks > max_blocks:
        raise BibtexError(
            [
                f"The file has {blocks:,} lines starting with '@'; at most "
                f"{max_blocks:,} entries are read. Split it into smaller files."
            ]
        )


def _string_macros(library) -> tuple[dict[str, str], list[str]]:
    """The @string macros, each expanded in the order the file defines them, so that a macro
    built from earlier ones (``@string{full = short # " of Myositis"}``) holds the text."""
    strings: dict[str, str] = {}
    problems: list[str] = []
    for string in library.strings:
        value = str(string.value)
        if string.enclosing == "no-enclosing" and not value.isdigit():
            try:
                value, _undefined = _expand(value, strings)
            except _TooLong:
                problems.append(
                    f"@string '{string.key}' (line {string.start_line + 1}) expands "
                    f"to more than {MAX_EXPANDED_CHARS:,} characters"
                )
                value = ""
        strings[string.key.lower()] = value
    return strings, problems


def parse_bibtex(text: str, *, max_blocks: int = MAX_BLOCKS) -> ParseResult:
    """Parse BibTeX/biblatex text, or raise ``BibtexError`` listing every problem found.

    Every step is linear in the size of the text, and ``_check_cost`` bounds the constant.
    """
    _check_cost(text, max_blocks)
    library = bibtexparser.parse_string(text)
    strings, problems = _string_macros(library)
    resolved: dict[str, dict[str, str]] = {}
    for entry in library.entries:
        resolved[entry.key], entry_problems = _resolve_fields(entry, strings)
        problems.extend(entry_problems)
    references: list[ParsedReference] = []
    skipped: list[str] = []
    previous = None  # the entry before a block, to name it when stray text follows it
    latex_budget = MAX_LATEX_SPECIALS
    for block in library.blocks:
        if isinstance(block, ParsingFailedBlock):
            problems.append(_describe_failed_block(block))
        elif isinstance(block, ImplicitComment):
            if previous is not None and _looks_like_fields(block.comment):
                problems.append(
                    f"line {block.start_line + 1}: text after entry '{previous.key}' (line "
                    f"{previous.start_line + 1}) looks like more of its fields: an extra "
                    "closing brace probably ends that entry too early"
                )
        if not isinstance(block, Entry):
            continue
        previous = block
        entry_type = block.entry_type.lower()
        if entry_type in NON_WORK_TYPES:
            skipped.append(
                f"@{entry_type}{{{block.key}}} (line {block.start_line + 1}) "
                "groups other entries and is not a work itself"
            )
            continue
        fields = _fields_with_crossref(block, resolved)
        used = [value for key, value in fields.items() if key in USED_FIELDS]
        if any(_brace_depth(value) > MAX_BRACE_DEPTH for value in used):
            problems.append(
                f"entry '{block.key}' (line {block.start_line + 1}): braces are "
                "nested too deeply to read"
            )
            continue
        latex_budget -= sum(value.count(char) for value in used for char in _LATEX_SPECIALS)
        if latex_budget < 0:
            raise BibtexError(
                [
                    *problems,
                    f"entry '{block.key}' (line {block.start_line + 1}) "
                    f"brings the LaTeX special characters (\\ {{ }} $ ~ -) of the "
                    f"file past {MAX_LATEX_SPECIALS:,}, more than are read at once. "
                    "Split the file into smaller ones.",
                ]
            )
        try:
            references.append(_to_reference(block, entry_type, fields))
        except _EntryProblems as exc:
            problems.extend(exc.problems)
        except RecursionError:
            problems.append(
                f"entry '{block.key}' (line {block.start_line + 1}): braces are "
                "nested too deeply to read"
            )
    if problems:
        raise BibtexError(problems)
    return ParseResult(references=references, skipped=skipped)


def _brace_depth(value: str) -> int:
    """How deep braces nest in a value (the other characters are removed at C speed)."""
    depth = deepest = 0
    for char in _NOT_BRACES_RE.sub("", value):
        depth += 1 if char == "{" else -1
        deepest = max(deepest, depth)
    return deepest


def _looks_like_fields(comment: str) -> bool:
    """True when text between entries has a '}' or a line starting like 'name ='."""
    return "}" in comment or any(
        _FIELD_START_RE.match(line.lstrip()) for line in comment.splitlines()
    )


class _TooLong(Exception):
    pass


class _EntryProblems(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems


def _describe_failed_block(block) -> str:
    line = getattr(block, "start_line", 0) + 1
    error = getattr(block, "error", None)
    kind = type(block).__name__
    if kind == "DuplicateBlockKeyBlock":
        return f"line {line}: duplicate entry key '{block.key}'"
    lines = str(getattr(error, "abort_reason", "") or error or "").strip().splitlines()
    reason = lines[0] if lines else "could not be parsed"
    if "Unexpected block start" in reason or "Was still looking for" in reason:
        reason = "unbalanced braces, quotes or a missing comma: the entry does not close"
    elif "end of file" in reason:
        reason = "the file ends before the entry closes (unbalanced braces or quotes)"
    match = _FAILED_KEY_RE.match(getattr(block, "raw", "") or "")
    if match and match.group(2):
        return f"entry '{match.group(2)}' starting on line {line}: {reason}"
    return f"entry starting on line {line}: {reason}"


def _resolve_fields(entry, strings: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Field values with @string macros and '#' concatenation resolved.

    bibtexparser replaces a lone macro it knows; a concatenation, a month macro and an
    undefined macro are left as written, with the field marked as not enclosed.
    """
    fields: dict[str, str] = {}
    problems: list[str] = []
    for key, item in entry.fields_dict.items():
        key = key.lower()
        value = str(item.value)
        if getattr(item, "enclosing", None) == "no-enclosing" and not value.isdigit():
            try:
                value, undefined = _expand(value, strings)
            except _TooLong:
                problems.append(
                    f"entry '{entry.key}' (line {entry.start_line + 1}): field "
                    f"'{key}' expands to more than {MAX_EXPANDED_CHARS:,} characters"
                )
                value, undefined = "", []
            if undefined and key in USED_FIELDS:
                names = ", ".join(f"'{name}'" for name in undefined)
                problems.append(
                    f"entry '{entry.key}' (line {entry.start_line + 1}): field '{key}' uses "
                    f"@string {names}, which the file does not define"
                )
        fields[key] = value
    return fields, problems


def _expand(value: str, strings: dict[str, str]) -> tuple[str, list[str]]:
    """A '#' concatenation of braced or quoted text, numbers and macros, as one text; raises
    ``_TooLong`` past ``MAX_EXPANDED_CHARS``."""
    parts, undefined, length = [], [], 0
    for part in _split_concatenation(value):
        length += len(parts[-1]) if parts else 0
        if length > MAX_EXPANDED_CHARS:
            raise _TooLong
        part = part.strip()
        if part[:1] == "{" and part[-1:] == "}" or part[:1] == '"' and part[-1:] == '"':
            parts.append(part[1:-1])
        elif part.isdigit():
            parts.append(part)
        elif part.lower() in strings:
            parts.append(strings[part.lower()])
        elif part.lower() in MONTH_MACROS:
            parts.append(MONTH_MACROS[part.lower()])
        else:
            undefined.append(part)
            parts.append(part)
    text = "".join(parts)
    if len(text) > MAX_EXPANDED_CHARS:
        raise _TooLong
    return text, undefined


def _split_concatenation(value: str) -> list[str]:
    """Split on '#' outside braces and quotes ('dtv # { and Walter}' -> two parts)."""
    parts, depth, quoted, current = [], 0, False, []
    for char in value:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _fields_with_crossref(entry, resolved: dict[str, dict[str, str]]) -> dict[str, str]:
    """The entry's fields, filling gaps from its ``crossref`` parent (biblatex inheritance)."""
    fields = dict(resolved[entry.key])
    inherited = resolved.get(fields.get("crossref", ""))
    if inherited is not None:
        # A chapter's container title is its parent's title.
        if "booktitle" not in fields and "title" in inherited:
            fields["booktitle"] = inherited["title"]
        for key in (
            "date",
            "year",
            "publisher",
            "location",
            "editor",
            "author",
            "journaltitle",
            "journal",
            "volume",
        ):
            if key not in fields and key in inherited:
                fields[key] = inherited[key]
    return fields


def _to_reference(entry, entry_type: str, fields: dict[str, str]) -> ParsedReference:
    where = f"entry '{entry.key}' (line {entry.start_line + 1})"
    problems: list[str] = []
    if not BIBTEX_KEY_RE.match(entry.key) or len(entry.key) > 100:
        problems.append(
            f"{where}: the key may hold only letters, digits and : . / + _ - "
            "(starting with a letter or digit, at most 100 characters)"
        )
    identifier_sources = fields.get("idsources", "").split()
    try:
        validate_http_url_list(identifier_sources)
    except ValidationError as exc:
        problems.append(f"{where}: idsources: {' '.join(exc.messages)}")

    title = decode(fields.get("title", ""))
    subtitle = decode(fields.get("subtitle", ""))
    if title and subtitle:
        title = f"{title}{'' if title[-1] in '.?!:' else ':'} {subtitle}"
    if not title:
        problems.append(f"{where}: has no title")

    year = None
    raw_year = (fields.get("year") or fields.get("date") or "").strip()
    if raw_year:
        match = YEAR_RE.match(raw_year)
        if not match or not 1000 <= int(match.group(1)) <= 2100:
            problems.append(f"{where}: year '{raw_year}' is not a year such as 2013")
        else:
            year = int(match.group(1))

    authors, truncated = [], False
    raw_names = fields.get("author") or fields.get("editor") or ""
    if raw_names:
        try:
            authors, truncated = parse_names(raw_names)
        except InvalidNameError as exc:
            problems.append(f"{where}: author list cannot be read ({exc})")
        if len(authors) > MAX_AUTHORS:
            problems.append(
                f"{where}: has {len(authors):,} authors; at most {MAX_AUTHORS:,} "
                "are accepted (list the first ones and end with 'and others')"
            )

    doi = normalise_doi(decode_identifier(fields.get("doi", "")))
    if doi and not DOI_RE.match(doi):
        problems.append(f"{where}: DOI '{doi}' does not look like 10.<registrant>/<suffix>")
    pmid = fields.get("pmid", "").strip()
    if not pmid and fields.get("eprinttype", "").lower() == "pubmed":
        pmid = fields.get("eprint", "").strip()
    if pmid and not PMID_RE.match(pmid):
        problems.append(f"{where}: PMID '{pmid}' is not 1 to 8 digits")
    pmcid = fields.get("pmcid", "").strip().upper()
    if pmcid and not PMCID_RE.match(pmcid):
        problems.append(f"{where}: PMCID '{pmcid}' is not PMC followed by digits")

    number = None
    if fields.get("reviewnumber"):
        if fields["reviewnumber"].strip().isdigit():
            number = int(fields["reviewnumber"])
        else:
            problems.append(f"{where}: reviewnumber '{fields['reviewnumber']}' is not a number")

    kind = fields.get("kind", "").strip() or ENTRY_TYPE_KIND.get(entry_type, ReferenceKind.OTHER)
    if kind not in ReferenceKind.values:
        problems.append(f"{where}: kind '{kind}' is not one of {', '.join(ReferenceKind.values)}")
    role = fields.get("role", "").strip()
    if role and role not in ReferenceRole.values:
        problems.append(f"{where}: role '{role}' is not one of {', '.join(ReferenceRole.values)}")

    if problems:
        raise _EntryProblems(problems)

    container = fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle", "")
    return ParsedReference(
        key=entry.key,
        entry_type=entry_type,
        line=entry.start_line + 1,
        title=title,
        authors=authors,
        authors_truncated=truncated,
        year=year,
        journal=decode(container),
        volume=decode(fields.get("volume", "")),
        issue=decode(fields.get("number") or fields.get("issue", "")),
        pages=decode(fields.get("pages", "")),
        publisher=decode(
            fields.get("publisher") or fields.get("institution") or fields.get("school", "")
        ),
        doi=doi,
        pmid=pmid,
        pmcid=pmcid,
        url=fields.get("url", "").strip(),
        kind=kind,
        role=role,
        number=number,
        notes=decode(fields.get("annote", "")),
        identifier_sources=identifier_sources,
        present=_present(fields, pmid),
    )


def _present(fields: dict[str, str], pmid: str) -> set[str]:
    present = {PROVIDES[key] for key in fields if key in PROVIDES}
    if pmid:
        present.add("pmid")
    if "authors" in present:
        present.add("authors_truncated")
    return present


def decode_identifier(value: str) -> str:
    """Identifiers are not prose: only strip braces and whitespace, never reinterpret '--'."""
    return value.replace("{", "").replace("}", "").strip()
