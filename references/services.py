"""Writes to the bibliography. Every path (load_corpus, import, admin, API) goes through here."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from core.services import attributed, save_changes
from core.workflow import load_status
from references.bibtex import ParsedAuthor, ParsedReference
from references.models import Author, Reference
from references.validators import normalise_doi, normalise_title

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser


@dataclass
class UpsertResult:
    reference: Reference
    created: bool
    changed: bool


def find_existing(parsed: ParsedReference, exclude: Collection[int] = ()) -> Reference | None:
    """Match an incoming reference: review number, DOI, PMID, then normalised title + year
    (never one of the references whose ids are in ``exclude``)."""
    candidates = Reference.objects.exclude(pk__in=list(exclude))
    if parsed.number:
        match = candidates.filter(number=parsed.number).first()
        if match:
            return match
    if parsed.doi:
        match = candidates.filter(doi__iexact=normalise_doi(parsed.doi)).first()
        if match:
            return match
    if parsed.pmid:
        match = candidates.filter(pmid=parsed.pmid).first()
        if match:
            return match
    title = normalise_title(parsed.title)[:500]
    if title:
        return candidates.filter(title_normalised=title, year=parsed.year).first()
    return None


@transaction.atomic
def upsert_reference(
    *,
    parsed: ParsedReference,
    status: str | None = None,
    existing: Reference | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> UpsertResult:
    """Create or update a reference and its ordered authors; unchanged rows are not saved.

    ``existing`` is the stored reference to update (an unsaved one means "create", without
    looking for a match); without it the reference is matched by ``find_existing``. ``status``
    is a trusted source's (the fixtures, a backup) and goes through
    ``core.workflow.load_status``; people change it through the workflow's transitions.
    """
    reference = existing if existing is not None else find_existing(parsed)
    created = reference is None or reference.pk is None
    if reference is None:
        reference = Reference()
    with attributed(user=user, reason=reason):
        changed = save_changes(reference, parsed.model_fields())
        authors_changed = set_authors(reference=reference, authors=parsed.authors)
        if status is not None:
            changed = load_status(reference, status=status, reason=reason) or changed
    return UpsertResult(reference=reference, created=created, changed=changed or authors_changed)


# What curators write on a reference (the API's fields besides the authors). Blank text is ""
# in the database, so a null sent for one of ``TEXT_FIELDS`` is stored as "".
REFERENCE_FIELDS = (
    "number",
    "authors_truncated",
    "year",
    "title",
    "journal",
    "volume",
    "issue",
    "pages",
    "publisher",
    "doi",
    "pmid",
    "pmcid",
    "kind",
    "role",
    "url",
    "bibtex_key",
    "notes",
)
TEXT_FIELDS = (
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
    "notes",
)


def _free_key(values: dict, authors: list[ParsedAuthor]) -> str:
    """A BibTeX key made from the first author, year and first title word, not yet used."""
    stem = (
        slugify(
            f"{authors[0].family if authors else 'anon'}{values.get('year') or ''}"
            f"-{(values.get('title') or '').split(' ')[0]}"
        )[:90]
        or "reference"
    )
    key, n = stem, 1
    while Reference.objects.filter(bibtex_key=key).exists():
        n += 1
        key = f"{stem}-{n}"
    return key


@transaction.atomic
def save_reference(
    *,
    reference: Reference,
    authors: list[ParsedAuthor],
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> Reference:
    """Write ``reference`` (new or stored) with ``fields`` (``REFERENCE_FIELDS``) and its
    authors in order; a missing BibTeX key is made from author, year and title."""
    unknown = set(fields) - set(REFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    values = dict(fields)
    if not values.get("bibtex_key"):
        values["bibtex_key"] = _free_key(values, authors)
    for name in TEXT_FIELDS:
        values[name] = values.get(name) or ""
    parsed = ParsedReference(
        key=values.pop("bibtex_key"),
        entry_type="",
        line=0,
        authors=authors,
        identifier_sources=list(reference.identifier_sources or []),
        **values,
    )
    return upsert_reference(parsed=parsed, existing=reference, user=user, reason=reason).reference


@transaction.atomic
def create_reference(
    *,
    authors: list[ParsedAuthor] | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> Reference:
    """A new reference, a draft until reviewed."""
    return save_reference(
        reference=Reference(), authors=authors or [], user=user, reason=reason, **fields
    )


@transaction.atomic
def update_reference(
    *,
    reference: Reference,
    authors: list[ParsedAuthor] | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **changes: Any,
) -> Reference:
    """Change what ``changes`` gives; ``authors=None`` keeps the authors."""
    current = {name: getattr(reference, name) for name in REFERENCE_FIELDS}
    if authors is None:
        authors = [
            ParsedAuthor(family=a.family, given=a.given, is_corporate=a.is_corporate)
            for a in reference.ordered_authors
        ]
    return save_reference(
        reference=reference,
        authors=authors,
        user=user,
        reason=reason,
        **{**current, **changes},
    )


def set_authors(*, reference: Reference, authors: list[ParsedAuthor]) -> bool:
    """Make the reference's author rows match ``authors`` in order, keeping unchanged rows."""
    current = list(reference.authors.order_by("position"))
    changed = False
    for position, parsed in enumerate(authors, start=1):
        wanted = {
            "family": parsed.family,
            "given": parsed.given,
            "is_corporate": parsed.is_corporate,
        }
        row = current[position - 1] if position <= len(current) else None
        if row is None:
            row = Author(reference=reference, position=position, **wanted)
            row.full_clean()
            row.save()
            changed = True
        elif any(getattr(row, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(row, key, value)
            row.full_clean()
            row.save()
            changed = True
    for extra in current[len(authors) :]:
        extra.delete()
        changed = True
    reference.refresh_first_author()
    return changed


def validation_messages(error: ValidationError) -> list[str]:
    """Flatten a ValidationError into 'field: message' sentences for command-line reports."""
    if hasattr(error, "message_dict"):
        return [f"{field}: {msg}" for field, msgs in error.message_dict.items() for msg in msgs]
    return list(error.messages)
