"""Writes to the bibliography. Every path (load_corpus, import, admin, API) goes through here."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from core.services import save_changes
from references.bibtex import ParsedAuthor, ParsedReference
from references.models import Author, Reference
from references.validators import normalise_doi, normalise_title


@dataclass
class UpsertResult:
    reference: Reference
    created: bool
    changed: bool


def find_existing(parsed: ParsedReference) -> Reference | None:
    """Match an incoming reference: review number, DOI, PMID, then normalised title + year."""
    if parsed.number:
        match = Reference.objects.filter(number=parsed.number).first()
        if match:
            return match
    if parsed.doi:
        match = Reference.objects.filter(doi__iexact=normalise_doi(parsed.doi)).first()
        if match:
            return match
    if parsed.pmid:
        match = Reference.objects.filter(pmid=parsed.pmid).first()
        if match:
            return match
    title = normalise_title(parsed.title)[:500]
    if title:
        return Reference.objects.filter(title_normalised=title, year=parsed.year).first()
    return None


@transaction.atomic
def upsert_reference(
    *, parsed: ParsedReference, status: str | None = None, existing: Reference | None = None
) -> UpsertResult:
    """Create or update a reference and its ordered authors; unchanged rows are not saved."""
    reference = existing if existing is not None else find_existing(parsed)
    created = reference is None
    if created:
        reference = Reference()
    values = parsed.model_fields()
    if status is not None:
        values["status"] = status
    changed = save_changes(reference, values)
    authors_changed = set_authors(reference=reference, authors=parsed.authors)
    return UpsertResult(reference=reference, created=created, changed=changed or authors_changed)


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
