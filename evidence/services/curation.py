"""Tell the loader's own writes from curators' edits, using each entry's history.

``load_corpus`` marks every history record it writes with ``LOADED`` (or ``RESET`` under
``--force``) and no user. An entry a curator deleted is curated too (``curated_deletion``): the
loader does not bring it back. An entry is *curated* when the newest history record of the entry or
of any row that is part of it (``PARTS``: a study's outcomes and provenance, a reference's
authors; many-to-many links are in the entry's own history) is somebody else's: an edit in the
admin or the API, a workflow transition, a revert, an import. The loader leaves such an entry
as the curator left it until ``--force``; once the loader writes to it again its record is the
newest, and the entry follows the fixtures again.

Why the history and not, say, a stored hash of the last fixture loaded for each entry: every
content model already keeps a history that records who changed what and when, so the loader can
say *who* changed an entry and *when*, needs no new table, and the rule cannot drift from the
data. Its limit: writes that bypass the history (``QuerySet.update()``, raw SQL) are invisible.

Records with no user and no change reason count as the loader's, because loaders before this
module wrote them so: an existing database keeps following the fixtures. Every edit through the
admin, the API and the workflow carries its user, so it is never mistaken for the loader's
(unless that user's account is deleted later, which empties the records' user).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone
from simple_history.signals import pre_create_historical_record

from evidence.models import Arm, Outcome, Provenance, Study, StudySubtypeCount
from references.models import Author, Reference

LOADED = "Loaded from the corpus (load_corpus)"
RESET = "Reset to the corpus (load_corpus --force)"
_LOADERS = frozenset({LOADED, RESET, "", None})

# Rows that belong to an entry, by the name of their foreign key to it: editing, adding or
# deleting one is an edit of the entry (the admin shows them inline, the fixtures nest them).
PARTS: dict[type[models.Model], tuple[tuple[type[models.Model], str], ...]] = {
    Study: (
        (Outcome, "study"),
        (Provenance, "study"),
        (Arm, "study"),
        (StudySubtypeCount, "study"),
    ),
    Reference: ((Author, "reference"),),
}


@dataclass(frozen=True)
class Change:
    """The newest history record of an entry that is not the loader's."""

    who: str
    when: str
    reason: str
    deleted: bool = False

    def __str__(self) -> str:
        what = "deleted" if self.deleted else "changed"
        text = f"{what} by {self.who} on {self.when}" if self.who else f"{what} on {self.when}"
        return f"{text}: {self.reason}" if self.reason else text


class Writes:
    """Counts the history records the load writes in this thread and marks them as its own.

    Every write the services make (a save, a delete, a many-to-many change) writes one history
    record, so a count that did not move means the entry was already as the fixtures say.
    """

    def __init__(self):
        self.count = 0
        self.reason = LOADED

    def mark(self, sender, history_instance, **kwargs) -> None:
        history_instance.history_change_reason = self.reason
        self.count += 1


@contextmanager
def marking_history() -> Iterator[Writes]:
    """Mark the history records written in this thread until the block ends.

    A signal receiver rather than ``_change_reason`` on each instance: the services create and
    delete rows (authors, outcomes...) themselves, and stay unaware of who calls them. Records
    written by other threads (a web server in the same process) are left alone.
    """
    writes = Writes()
    thread = threading.get_ident()

    def receiver(sender, history_instance, **kwargs):
        if threading.get_ident() == thread:
            writes.mark(sender, history_instance, **kwargs)

    uid = f"load_corpus-{thread}"
    pre_create_historical_record.connect(receiver, weak=False, dispatch_uid=uid)
    try:
        yield writes
    finally:
        pre_create_historical_record.disconnect(dispatch_uid=uid)


def curated_change(instance: models.Model) -> Change | None:
    """Who last changed ``instance`` (or a row that is part of it), unless the loader did."""
    model = type(instance)
    histories = [model.history.filter(**{model._meta.pk.attname: instance.pk})]
    # Every record of a row that was ever part of it: one moved to another entry last
    # says so under that entry's id.
    histories += [
        part.history.filter(id__in=part.history.filter(**{f"{fk}_id": instance.pk}).values("id"))
        for part, fk in PARTS.get(model, ())
    ]
    newest = [
        queryset.select_related("history_user").order_by("-history_date", "-history_id").first()
        for queryset in histories
    ]
    latest = max(
        (record for record in newest if record is not None),
        key=lambda record: record.history_date,
        default=None,
    )
    return _curators(latest)


def curated_deletion(model: type[Any], identity: dict) -> Change | None:
    """Who deleted the entry that ``identity`` (its natural key) names, unless the loader did
    or the entry was written again since."""
    latest = (
        model.history.filter(**identity)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
        .first()
    )
    if latest is None or latest.history_type != "-":
        return None
    return _curators(latest, deleted=True)


def _curators(record, *, deleted: bool = False) -> Change | None:
    """The change ``record`` made, unless it is the loader's."""
    if record is None or (
        record.history_user_id is None and record.history_change_reason in _LOADERS
    ):
        return None
    user = record.history_user
    when = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M %Z")
    return Change(
        who=user.get_username() if user else "",
        when=when,
        reason=record.history_change_reason or "",
        deleted=deleted,
    )
