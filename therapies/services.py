"""Writes to therapies, drug classes and rationale links (admin, API and load_corpus)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from core.services import save_changes
from core.workflow import load_status
from references.models import Reference
from therapies.models import DrugClass, Therapy, TherapyRationale

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser

# What a curator writes on a therapy (the API's fields; the slug is set once, on creation).
THERAPY_FIELDS = (
    "name",
    "mechanism",
    "synonyms",
    "brand_names",
    "route",
    "position",
    "secondary_position",
    "review_summary",
)


@transaction.atomic
def upsert_drug_class(
    *,
    slug: str,
    name: str,
    mechanism: str = "",
    order: int = 100,
    status: str | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> DrugClass:
    """Create or update the drug class ``slug``; ``status`` (a trusted source's, such as the
    fixtures) goes through ``core.workflow.load_status``."""
    drug_class = DrugClass.objects.filter(slug=slug).first() or DrugClass(slug=slug)
    save_changes(
        drug_class,
        {"name": name, "mechanism": mechanism, "order": order},
        user=user,
        reason=reason,
    )
    if status is not None:
        load_status(drug_class, status=status, reason=reason)
    return drug_class


@transaction.atomic
def save_therapy(
    *,
    therapy: Therapy,
    drug_class: DrugClass,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> Therapy:
    """Give ``therapy`` (new or stored) its class and the given fields; saved only when
    something differs."""
    save_changes(therapy, {**fields, "drug_class_id": drug_class.pk}, user=user, reason=reason)
    return therapy


@transaction.atomic
def create_therapy(
    *,
    slug: str,
    drug_class: DrugClass,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> Therapy:
    """A new therapy, a draft until it is reviewed."""
    return save_therapy(
        therapy=Therapy(slug=slug), drug_class=drug_class, user=user, reason=reason, **fields
    )


@transaction.atomic
def update_therapy(
    *,
    therapy: Therapy,
    drug_class: DrugClass | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **changes: Any,
) -> Therapy:
    """Change the given fields of ``therapy``; the others (and its status) stay."""
    return save_therapy(
        therapy=therapy,
        drug_class=drug_class or therapy.drug_class,
        user=user,
        reason=reason,
        **changes,
    )


@transaction.atomic
def upsert_therapy(
    *,
    slug: str,
    drug_class: str | DrugClass,
    status: str | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> Therapy:
    """Create or update a therapy by slug (the loader's form: the class by its slug)."""
    if not isinstance(drug_class, DrugClass):
        drug_class = DrugClass.objects.get(slug=drug_class)
    therapy = Therapy.objects.filter(slug=slug).first() or Therapy(slug=slug)
    save_therapy(therapy=therapy, drug_class=drug_class, user=user, reason=reason, **fields)
    if status is not None:
        load_status(therapy, status=status, reason=reason)
    return therapy


@transaction.atomic
def set_rationale(
    *,
    therapy: Therapy,
    reference: Reference,
    pathway: str,
    note: str = "",
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> TherapyRationale:
    """Link a mechanistic reference to the therapy it makes plausible."""
    link = TherapyRationale.objects.filter(therapy=therapy, reference=reference).first()
    link = link or TherapyRationale(therapy=therapy, reference=reference)
    save_changes(link, {"pathway": pathway, "note": note}, user=user, reason=reason)
    return link
