"""Writes to therapies and drug classes."""

from __future__ import annotations

from django.db import transaction

from core.services import save_changes
from references.models import Reference
from therapies.models import DrugClass, Therapy, TherapyRationale


@transaction.atomic
def upsert_drug_class(
    *, slug: str, name: str, mechanism: str = "", order: int = 100, status: str | None = None
) -> DrugClass:
    drug_class = DrugClass.objects.filter(slug=slug).first() or DrugClass(slug=slug)
    values = {"name": name, "mechanism": mechanism, "order": order}
    if status is not None:
        values["status"] = status
    save_changes(drug_class, values)
    return drug_class


@transaction.atomic
def upsert_therapy(*, slug: str, drug_class: str, status: str | None = None, **fields) -> Therapy:
    """Create or update a therapy by slug; ``drug_class`` is the class's slug."""
    therapy = Therapy.objects.filter(slug=slug).first() or Therapy(slug=slug)
    values = dict(fields, drug_class_id=DrugClass.objects.get(slug=drug_class).pk)
    if status is not None:
        values["status"] = status
    save_changes(therapy, values)
    return therapy


@transaction.atomic
def set_rationale(
    *, therapy: Therapy, reference: Reference, pathway: str, note: str = ""
) -> TherapyRationale:
    """Link a mechanistic reference to the therapy it makes plausible."""
    link = TherapyRationale.objects.filter(therapy=therapy, reference=reference).first()
    link = link or TherapyRationale(therapy=therapy, reference=reference)
    save_changes(link, {"pathway": pathway, "note": note})
    return link
