"""Writes to disease subtypes."""

from django.db import transaction

from core.services import save_changes
from evidence.models import DiseaseSubtype


@transaction.atomic
def upsert_subtype(*, code: str, status: str | None = None, **fields) -> DiseaseSubtype:
    subtype = DiseaseSubtype.objects.filter(code=code).first() or DiseaseSubtype(code=code)
    if status is not None:
        fields["status"] = status
    save_changes(subtype, fields)
    return subtype
