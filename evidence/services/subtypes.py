"""Writes to disease subtypes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from core.services import save_changes
from core.workflow import load_status
from evidence.models import DiseaseSubtype

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def upsert_subtype(
    *,
    code: str,
    status: str | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> DiseaseSubtype:
    """Create or update the subtype ``code``; ``status`` (a trusted source's) goes through
    ``core.workflow.load_status``."""
    subtype = DiseaseSubtype.objects.filter(code=code).first() or DiseaseSubtype(code=code)
    save_changes(subtype, fields, user=user, reason=reason)
    if status is not None:
        load_status(subtype, status=status, reason=reason)
    return subtype
