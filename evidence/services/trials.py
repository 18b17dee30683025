"""Create and update trials (grouping publications) and certainty overrides (issue 13)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from core.choices import ReviewStatus
from core.services import save_changes
from core.workflow import load_status
from evidence.models import CertaintyOverride, DiseaseSubtype, Trial
from evidence.services.studies import resolve_names
from therapies.models import Therapy

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser


@transaction.atomic
def upsert_trial(
    *,
    key: str,
    name: str,
    kind: str = "trial",
    registry_ids: list[str] | None = None,
    registry_source_url: str = "",
    note: str = "",
    status: str | None = ReviewStatus.DRAFT,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> Trial:
    """Create or update the trial ``key`` (registry ids are validated)."""
    trial = Trial.objects.filter(key=key).first() or Trial(key=key)
    save_changes(
        trial,
        {
            "name": name,
            "kind": kind,
            "registry_ids": registry_ids or [],
            "registry_source_url": registry_source_url or "",
            "note": note or "",
        },
        user=user,
        reason=reason,
    )
    if status is not None:
        load_status(trial, status=status, reason=reason)
    return trial


@transaction.atomic
def upsert_certainty_override(
    *,
    therapy: str,
    subtype: str,
    certainty: str,
    reason: str,
    measure: str = "",
    status: str | None = ReviewStatus.DRAFT,
    user: AbstractBaseUser | None = None,
    change_reason: str | None = None,
):
    """A curator's certainty for a therapy x subtype cell (or one of its outcome measures).

    ``reason`` is the curator's justification (a field of the override), so the history's
    change reason is ``change_reason`` here."""
    therapy_obj = resolve_names(Therapy, "slug", [therapy], "therapy slug")[0]
    subtype_obj = resolve_names(DiseaseSubtype, "code", [subtype], "subtype code")[0]
    override = CertaintyOverride.objects.filter(
        therapy=therapy_obj, subtype=subtype_obj, measure=measure or ""
    ).first() or CertaintyOverride(therapy=therapy_obj, subtype=subtype_obj, measure=measure or "")
    save_changes(
        override, {"certainty": certainty, "reason": reason}, user=user, reason=change_reason
    )
    if status is not None:
        load_status(override, status=status, reason=change_reason)
    return override
