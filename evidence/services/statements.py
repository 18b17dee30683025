"""Create and update the review's statements: summary claims about a therapy, with the studies
and references that support them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.choices import ReviewStatus
from core.services import save_changes
from core.workflow import load_status
from evidence.models import Statement, Study
from evidence.services.studies import StudyDataError, resolve_names
from references.models import Reference
from therapies.models import Therapy

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def upsert_statement(
    *,
    key: str,
    therapy: str,
    text: str,
    studies: list[str],
    references: list[int | str],
    order: int = 0,
    status: str | None = ReviewStatus.DRAFT,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> Statement:
    """A summary claim of the review about a therapy, with what supports it, as the fixtures
    name them: the therapy by slug, studies by key, references by their number in the review,
    or by BibTeX key for unnumbered ones (such as the source review itself).
    """
    numbers = [r for r in references if isinstance(r, int)]
    keys = [r for r in references if isinstance(r, str)]
    statement = Statement.objects.filter(key=key).first() or Statement(key=key)
    save_statement(
        statement=statement,
        therapy=resolve_names(Therapy, "slug", [therapy], "therapy slug")[0],
        text=text,
        studies=resolve_names(Study, "key", studies, "study key(s)") if studies else [],
        references=(
            resolve_names(Reference, "number", numbers, "reference number(s)") if numbers else []
        )
        + (resolve_names(Reference, "bibtex_key", keys, "reference key(s)") if keys else []),
        order=order,
        user=user,
        reason=reason,
    )
    if status is not None:
        load_status(statement, status=status, reason=reason)
    return statement


@transaction.atomic
def save_statement(
    *,
    statement: Statement,
    therapy: Therapy,
    text: str,
    studies: Sequence[Study],
    references: Sequence[Reference],
    order: int = 0,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> Statement:
    """Write ``statement`` (new or stored); it links at least one study or reference."""
    if not studies and not references:
        raise StudyDataError(f"statement {statement.key}: link at least one study or reference")
    save_changes(
        statement,
        {"therapy_id": therapy.pk, "text": text, "order": order},
        links={"studies": list(studies), "references": list(references)},
        user=user,
        reason=reason,
    )
    return statement


@transaction.atomic
def create_statement(
    *,
    key: str,
    therapy: Therapy,
    text: str,
    studies: Sequence[Study] = (),
    references: Sequence[Reference] = (),
    order: int = 0,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> Statement:
    """A new statement, a draft until reviewed."""
    if Statement.objects.filter(key=key).exists():
        raise ValidationError({"key": ["Another statement already has this key."]})
    return save_statement(
        statement=Statement(key=key),
        therapy=therapy,
        text=text,
        studies=studies,
        references=references,
        order=order,
        user=user,
        reason=reason,
    )


@transaction.atomic
def update_statement(
    *,
    statement: Statement,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **changes: Any,
) -> Statement:
    """Change what ``changes`` gives (therapy, text, studies, references, order)."""
    unknown = set(changes) - {"key", "therapy", "text", "studies", "references", "order"}
    if unknown:
        raise StudyDataError(f"unknown field(s): {', '.join(sorted(unknown))}")

    def pick(name: str):
        if name in changes:
            return changes[name]
        value = getattr(statement, name)
        return list(value.all()) if name in ("studies", "references") else value

    return save_statement(
        statement=statement,
        therapy=pick("therapy"),
        text=pick("text"),
        studies=pick("studies"),
        references=pick("references"),
        order=pick("order"),
        user=user,
        reason=reason,
    )
