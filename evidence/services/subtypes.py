"""Writes to disease subtypes."""

from django.db import transaction

from evidence.models import DiseaseSubtype


@transaction.atomic
def upsert_subtype(*, code: str, **fields) -> DiseaseSubtype:
    subtype = DiseaseSubtype.objects.filter(code=code).first() or DiseaseSubtype(code=code)
    changed = subtype.pk is None
    for name, value in fields.items():
        if getattr(subtype, name) != value:
            setattr(subtype, name, value)
            changed = True
    if changed:
        subtype.full_clean()
        subtype.save()
    return subtype
