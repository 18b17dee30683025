"""What the studies admin's actions do: marking studies verified (the CSV export is
``evidence.exports``, the same file as the pages')."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core.services import save_changes, save_entry
from core.workflow import authors, can_edit
from evidence.models import Provenance, Study


def stamp_verification(provenance: Provenance, *, user) -> None:
    """Record who verified a provenance record and when (or clear it when unticked)."""
    if provenance.verified:
        provenance.verified_by = user.get_username()
        provenance.verified_at = timezone.now()
    else:
        provenance.verified_by = ""
        provenance.verified_at = None


def own_work(study: Study, user) -> bool:
    """Whether ``user`` wrote or changed the study (or one of its outcomes or provenance rows).

    Verification means a second pair of eyes: a curator may not verify facts they wrote. The
    authors are the ones the four-eyes rule of publishing uses (``core.workflow.authors``,
    recorded from the history whatever route the change took).
    """
    return user.pk is not None and user.pk in authors(study)


def own_work_message(study: Study) -> str:
    return f"You wrote or changed “{study}”, so its facts must be verified by another curator."


@transaction.atomic
def mark_verified(
    *, studies: Iterable[Study], user
) -> tuple[list[Study], list[Study], list[Study]]:
    """Mark studies and all their provenance verified by ``user``; skip those they may not edit
    and refuse those they wrote themselves (created or last changed).

    Returns the studies marked, the studies skipped (not editable) and the studies refused
    (the user's own work).
    """
    marked, skipped, own = [], [], []
    for study in studies:
        if not can_edit(user, study):
            skipped.append(study)
            continue
        if own_work(study, user):
            own.append(study)
            continue
        # Through core.services, like every other write: validated, attributed to the user
        # with the action as the history's reason (the study's and its provenance rows').
        save_changes(study, {"verified": True}, user=user, reason="Marked verified")
        for provenance in study.provenance.filter(verified=False):
            provenance.verified = True
            stamp_verification(provenance, user=user)
            save_entry(provenance, user=user, reason="Marked verified")
        marked.append(study)
    return marked, skipped, own
