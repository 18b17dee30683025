"""Importing a BibTeX/biblatex, RIS, Web of Science or PubMed (MEDLINE, .nbib) file into the
bibliography, in one transaction.

Used by ``manage.py import_references`` (and ``import_bibtex``) and the admin's upload form.
Every format is read into the same ``ParsedReference`` (``references.bibtex`` for BibTeX,
``references.readers`` for the others), so what follows is shared. Each entry is matched to an
existing reference by review number (our own exports carry it), DOI, PMID, then normalised title
and year (``services.find_existing``); matched references are updated, others created as drafts.
A file with any problem (unbalanced braces, a record that does not end, an entry without title,
a bad year, a field that does not fit) is refused whole: nothing is saved and every problem is
reported with its entry and line.

Updates only touch what the entry gives: a Zotero export without our ``reviewnumber``, ``role``
or ``annote`` fields keeps the reference's number, role and notes. A reference keeps its BibTeX
key (keys are how the corpus and citing documents name it); the report says when the file's
differs.
"""

from __future__ import annotations

import codecs
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.workflow import can_edit
from references.bibtex import BibtexError, ParsedAuthor, ParsedReference, parse_bibtex
from references.formats import BIBTEX_TYPES
from references.models import Reference
from references.readers import BIBTEX, FORMAT_LABELS, ReadError, detect_format, read_records
from references.services import find_existing, upsert_reference, validation_messages
from references.validators import normalise_doi, normalise_title

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Entries per import: an upload is checked (a dry run) and imported within one web request.
DEFAULT_MAX_ENTRIES = 1000
# Reference fields an entry may leave out; an update then keeps the stored value.
OPTIONAL_FIELDS = (
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
    "role",
    "number",
    "notes",
    "identifier_sources",
    "authors_truncated",
)
CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
Progress = Callable[[int, int], None]


def max_import_bytes() -> int:
    """The largest file accepted (setting ``MYOEVIDENCE_IMPORT_MAX_BYTES``, default 5 MB)."""
    return getattr(settings, "MYOEVIDENCE_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_import_entries() -> int:
    """The most entries one file may hold (setting ``MYOEVIDENCE_IMPORT_MAX_ENTRIES``)."""
    return getattr(settings, "MYOEVIDENCE_IMPORT_MAX_ENTRIES", DEFAULT_MAX_ENTRIES)


class ImportRefused(ValueError):
    """Nothing was imported; ``problems`` lists every reason, each naming its entry and line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class ImportedEntry:
    """What happened to one entry of the file."""

    key: str
    line: int
    action: str
    reference_id: int | None
    label: str
    matched_by: str = ""
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"{self.action:<9} {self.key} (line {self.line})"
        details = []
        if self.matched_by:
            details.append(f"matched {self.label} by {self.matched_by}")
        if self.changed:
            details.append("changed: " + ", ".join(self.changed))
        details.extend(self.notes)
        return text + (": " + "; ".join(details) if details else "")


@dataclass
class ImportReport:
    entries: list[ImportedEntry]
    skipped: list[str]
    dry_run: bool
    format: str = BIBTEX

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS[self.format]

    def with_action(self, action: str) -> list[ImportedEntry]:
        return [entry for entry in self.entries if entry.action == action]

    @property
    def created(self) -> list[ImportedEntry]:
        return self.with_action(CREATED)

    @property
    def updated(self) -> list[ImportedEntry]:
        return self.with_action(UPDATED)

    @property
    def unchanged(self) -> list[ImportedEntry]:
        return self.with_action(UNCHANGED)

    def summary(self) -> str:
        text = (
            f"{len(self.entries)} entries: {len(self.created)} created, "
            f"{len(self.updated)} updated, {len(self.unchanged)} unchanged"
        )
        if self.skipped:
            text += f"; {len(self.skipped)} skipped"
        return text + (" (dry run: nothing was saved)." if self.dry_run else ".")

    def lines(self) -> list[str]:
        return [entry.describe() for entry in self.entries] + [
            f"skipped   {reason}" for reason in self.skipped
        ]


def check_size(size: int, *, name: str = "The file") -> None:
    limit = max_import_bytes()
    if size > limit:
        raise ImportRefused(
            [
                f"{name} is {size:,} bytes; the import limit is {limit:,} bytes. "
                "Split it into smaller files."
            ]
        )


def decode_bibtex_bytes(data: bytes, *, name: str = "The file") -> str:
    """The text of an uploaded or read file: within the size limit, UTF-8, not binary."""
    check_size(len(data), name=name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Some Windows tools save "Unicode" text as UTF-16 with a byte-order mark.
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise ImportRefused(
                [f"{name} starts like UTF-16 text but is not; save it as UTF-8 and try again."]
            ) from None
    if b"\x00" in data:
        raise ImportRefused([f"{name} is not a text file (it contains NUL bytes)."])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            [
                f"{name} is not UTF-8 text (invalid byte at position {exc.start}); "
                "save it as UTF-8 and try again."
            ]
        ) from None


# The text of an uploaded file, whatever its format (the checks are not BibTeX's own).
decode_import_bytes = decode_bibtex_bytes


def import_bibtex(
    *, text: str, user=None, dry_run: bool = False, progress: Progress | None = None
) -> ImportReport:
    """``import_references`` of a BibTeX/biblatex text."""
    return import_references(text=text, fmt=BIBTEX, user=user, dry_run=dry_run, progress=progress)


def parse_references(text: str, *, fmt: str | None = None, name: str = ""):
    """The format and the parsed entries of ``text`` (``fmt`` None: detected from the content
    and the file name), or ``ImportRefused`` naming every problem."""
    try:
        fmt = fmt or detect_format(text, name)
        if fmt == BIBTEX:
            return fmt, parse_bibtex(text)
        return fmt, read_records(text, fmt, max_records=max_import_entries())
    except (BibtexError, ReadError) as exc:
        raise ImportRefused(exc.problems) from None


def import_references(
    *,
    text: str,
    fmt: str | None = None,
    name: str = "",
    user=None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import every entry of ``text`` or none; ``dry_run`` reports without saving.

    ``fmt`` is ``readers.BIBTEX``, ``RIS``, ``WOS`` or ``MEDLINE``; None detects it from the
    content (and ``name``, the file's name). With ``user`` the changes are recorded in the
    history as theirs, and a reference they may not edit (a published one, for a curator) is
    not changed by the import.
    """
    check_size(len(text.encode("utf-8")))
    fmt, parsed = parse_references(text, fmt=fmt, name=name)
    label = FORMAT_LABELS[fmt]
    if not parsed.references:
        raise ImportRefused([f"The file has no {label} entries describing a work."])
    if len(parsed.references) > max_import_entries():
        raise ImportRefused(
            [
                f"The file has {len(parsed.references):,} entries; at most "
                f"{max_import_entries():,} are imported at once. Split it into smaller files."
            ]
        )

    problems: list[str] = []
    entries: list[ImportedEntry] = []
    claimed: dict[int, ParsedReference] = {}
    total = len(parsed.references)
    with transaction.atomic():
        for done, item in enumerate(parsed.references, start=1):
            where = f"entry '{item.key}' (line {item.line})"
            try:
                with transaction.atomic():
                    entries.append(_import_entry(item, user=user, claimed=claimed, label=label))
            except ValidationError as exc:
                problems.extend(f"{where}: {msg}" for msg in validation_messages(exc))
            except IntegrityError as exc:
                problems.append(f"{where}: conflicts with a stored reference ({exc})")
            except _Refused as exc:
                problems.append(f"{where}: {exc}")
            if progress is not None:
                progress(done, total)
        if problems or dry_run:
            transaction.set_rollback(True)
    if problems:
        raise ImportRefused(problems)
    if dry_run:
        for entry in entries:
            if entry.action == CREATED:
                entry.reference_id = None
    return ImportReport(entries=entries, skipped=parsed.skipped, dry_run=dry_run, format=fmt)


class _Refused(Exception):
    """One entry cannot be imported; the message completes 'entry X (line n): ...'."""


def _import_entry(item: ParsedReference, *, user, claimed: dict, label: str) -> ImportedEntry:
    match, how, notes = _match(item, claimed)
    if match is None:
        return _create(item, user=user, claimed=claimed, notes=notes, label=label)
    if match.pk in claimed:
        other = claimed[match.pk]
        raise _Refused(
            f"same {how} as entry '{other.key}' (line {other.line}); "
            "both describe the same reference, so remove one"
        )
    merged = _merge(item, match)
    changed = _changed_fields(merged, match)
    if changed and user is not None and not can_edit(user, match):
        raise _Refused(
            f"would change {_label(match)}, which is {match.get_status_display()} "
            "and can be changed only by an editor"
        )
    if label == FORMAT_LABELS[BIBTEX] and item.key != match.bibtex_key:
        # (Other formats have no keys: theirs is made up by the reader.)
        notes.append(f"keeps its key '{match.bibtex_key}'")
    # The service attributes the history records (the reference's and its authors') to the
    # importing user, with the import as the reason.
    upsert_reference(
        parsed=merged, existing=match, user=user, reason=f"Updated by a {label} import"
    )
    claimed[match.pk] = item
    return ImportedEntry(
        key=item.key,
        line=item.line,
        action=UPDATED if changed else UNCHANGED,
        reference_id=match.pk,
        label=_label(match),
        matched_by=how,
        changed=changed,
        notes=notes,
    )


def _create(
    item: ParsedReference, *, user, claimed: dict, notes: list[str], label: str
) -> ImportedEntry:
    key = _free_key(item.key)
    if key != item.key:
        notes.append(f"another reference has the key '{item.key}', so it was saved as '{key}'")
    # An unsaved instance tells upsert_reference to create, not to look for a match again
    # (we may have decided that a title-and-year match is a different work).
    result = upsert_reference(
        parsed=dataclasses.replace(item, key=key),
        existing=Reference(),
        user=user,
        reason=f"Created by a {label} import",
    )
    claimed[result.reference.pk] = item
    return ImportedEntry(
        key=item.key,
        line=item.line,
        action=CREATED,
        reference_id=result.reference.pk,
        label=_label(result.reference),
        notes=notes,
    )


def _match(item: ParsedReference, claimed: dict) -> tuple[Reference | None, str, list[str]]:
    """The stored reference the entry describes, how it was recognised, and notes."""
    found = find_existing(item)
    if found is None:
        return None, "", []
    how = _matched_by(found, item)
    if how != "title and year":
        return found, how, []
    # Title and year are a weaker sign than an identifier: a reprint or an online version can
    # share them. Prefer the reference with the same key, and never one that another entry of
    # this file already matched: then this entry is a separate work.
    candidates = Reference.objects.filter(
        title_normalised=normalise_title(item.title)[:500], year=item.year
    ).order_by("pk")
    candidates = sorted(candidates, key=lambda ref: ref.bibtex_key != item.key)
    for candidate in candidates:
        if candidate.pk not in claimed:
            return candidate, how, []
    other = claimed[candidates[0].pk]
    return (
        None,
        "",
        [
            f"same title and year as entry '{other.key}' (line {other.line}), "
            "imported as a separate reference"
        ],
    )


def _matched_by(found: Reference, item: ParsedReference) -> str:
    if item.number and found.number == item.number:
        return "review number"
    if item.doi and found.doi.lower() == normalise_doi(item.doi).lower():
        return "DOI"
    if item.pmid and found.pmid == item.pmid:
        return "PMID"
    return "title and year"


def _merge(item: ParsedReference, existing: Reference) -> ParsedReference:
    """The entry's values, with the stored ones where the entry says nothing."""
    values = {name: getattr(existing, name) for name in OPTIONAL_FIELDS if name not in item.present}
    values["key"] = existing.bibtex_key
    if item.doi.lower() == existing.doi.lower():  # DOIs are case-insensitive
        values["doi"] = existing.doi
    # An entry type says little (@article covers guidelines and abstracts): keep our finer
    # kind unless the entry names one or its type maps to a different BibTeX type.
    if "kind" not in item.present and BIBTEX_TYPES.get(existing.kind) == BIBTEX_TYPES.get(
        item.kind
    ):
        values["kind"] = existing.kind
    if "authors_truncated" not in item.present:
        # A format that cannot say "et al." (RIS, MEDLINE, Web of Science): the stored "et al."
        # stands unless the record lists more authors than are stored.
        values["authors_truncated"] = existing.authors_truncated and (
            "authors" not in item.present or len(item.authors) <= existing.authors.count()
        )
    if "authors" not in item.present:
        values["authors"] = [
            ParsedAuthor(family=a.family, given=a.given, is_corporate=a.is_corporate)
            for a in existing.authors.order_by("position")
        ]
    return dataclasses.replace(item, **values)


def _changed_fields(merged: ParsedReference, existing: Reference) -> list[str]:
    changed = [
        name for name, value in merged.model_fields().items() if getattr(existing, name) != value
    ]
    stored = [(a.family, a.given, a.is_corporate) for a in existing.authors.order_by("position")]
    if stored != [(a.family, a.given, a.is_corporate) for a in merged.authors]:
        changed.append("authors")
    return changed


def _free_key(key: str) -> str:
    if not Reference.objects.filter(bibtex_key=key).exists():
        return key
    suffix = 2
    while Reference.objects.filter(bibtex_key=f"{key[:95]}-{suffix}").exists():
        suffix += 1
    return f"{key[:95]}-{suffix}"


def _label(reference: Reference) -> str:
    return f"reference [{reference.number}]" if reference.number else f"reference id-{reference.pk}"
