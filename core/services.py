"""The one write path: every app's services save through these functions.

The admin (``ContentAdmin.save_model``/``save_related``/``delete_model``), the API (the write
viewsets' ``perform_create``/``perform_update``), the importers and ``load_corpus`` all reach
the database through an app service that ends here, so the rules of a write hold whatever the
entry point:

* the entry is validated (``full_clean``) inside one transaction;
* a published entry shows only published entries (``core.invariants``): refused here, before
  anything is written, with a message naming them (the signal handlers stay as the backstop
  for code that writes around the services, such as a shell session);
* a published entry that published entries show is not deleted;
* the history record says who wrote (``user``) and through which route (``reason``), which is
  what the four-eyes rule (``core.workflow``) and the loader's "curated" check
  (``evidence.services.curation``) read;
* status changes go through ``core.workflow`` (transitions for people, ``load_status`` for a
  trusted source such as the fixtures or a backup).

The content generation that the caches key on is bumped by ``core.cache``'s signal handlers on
every committed content write, so it follows from saving here too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from simple_history.signals import pre_create_historical_record

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser

# simple-history stores the change reason in a 100-character column.
REASON_MAX = 100

_context = threading.local()


def _attribute(sender, history_instance, **kwargs) -> None:
    """Give each history record written inside ``attributed()`` its user and reason."""
    stack = getattr(_context, "stack", None)
    if not stack:
        return
    user, reason = stack[-1]
    if user is not None and history_instance.history_user_id is None:
        history_instance.history_user = user
    if reason and not history_instance.history_change_reason:
        history_instance.history_change_reason = reason[:REASON_MAX]


pre_create_historical_record.connect(_attribute, dispatch_uid="core-services-attribute")


@contextmanager
def attributed(
    *, user: AbstractBaseUser | None = None, reason: str | None = None
) -> Iterator[None]:
    """Attribute every history record written in this thread until the block ends (the entry
    and the rows that are part of it: authors, outcomes, links) to ``user`` with ``reason``.

    A thread-local context rather than ``_history_user`` on each instance, because services
    create and delete rows of their own; the innermost block wins. Records that already carry a
    user (simple-history's request middleware) or a reason (a workflow transition, a revert)
    keep theirs.
    """
    stack = _context.__dict__.setdefault("stack", [])
    # A service called by another service (outcomes saved for a study) without a user or
    # reason of its own keeps the caller's.
    outer_user, outer_reason = stack[-1] if stack else (None, None)
    stack.append((user or outer_user, reason or outer_reason))
    try:
        yield
    finally:
        stack.pop()


def apply_changes(instance: models.Model, values: dict) -> bool:
    """Set the attributes that differ; True when anything changed or the row is new.

    Services save only what changed, so that reloading the same data writes nothing and
    adds no history.
    """
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _check_shows(instance: models.Model, links: dict[str, Any] | None = None) -> None:
    """Refuse, before writing, a published entry that would show unpublished ones."""
    from core.invariants import InvariantError, published_shows_problem
    from core.models import ReviewedModel

    if not isinstance(instance, ReviewedModel):
        return
    values = {
        name: getattr(instance, name)
        for name in instance.shows
        if not instance._meta.get_field(name).many_to_many
    }
    values.update({name: list(v) for name, v in (links or {}).items() if name in instance.shows})
    problem = published_shows_problem(instance, values)
    if problem:
        raise InvariantError(problem)


@transaction.atomic
def save_entry(
    instance: models.Model,
    *,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    links: dict[str, Iterable[models.Model]] | None = None,
) -> models.Model:
    """Validate and save ``instance`` as it is now, then set its many-to-many ``links`` (by
    field name) where they differ; returns the instance."""
    links = {name: list(targets) for name, targets in (links or {}).items()}
    _check_shows(instance, links)
    instance.full_clean()
    with attributed(user=user, reason=reason):
        instance.save()
        set_links(instance, links=links)
    return instance


@transaction.atomic
def set_links(
    instance: models.Model,
    *,
    links: dict[str, Iterable[models.Model]],
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> bool:
    """Make each many-to-many field in ``links`` hold exactly those targets; True if any
    changed (unchanged links write no history). A published entry may link only published
    entries (refused before anything is written)."""
    links = {name: list(targets) for name, targets in links.items()}
    _check_shows(instance, links)
    changed = False
    with attributed(user=user, reason=reason):
        for name, targets in links.items():
            manager = getattr(instance, name)
            # Compared with, and set against, the links as stored: the instance may carry
            # them prefetched through its reader's visibility (the API reads a record as its
            # user may see it), and a link hidden from that view is stored all the same.
            getattr(instance, "_prefetched_objects_cache", {}).pop(
                manager.prefetch_cache_name, None
            )
            if set(manager.all()) != set(targets):
                manager.set(targets)
                changed = True
    return changed


def hidden_links(instance: models.Model, name: str, user) -> list[models.Model]:
    """The entries that ``instance``'s many-to-many field ``name`` links as stored and that
    ``user`` may not see (``restrict``): for a form or a write that showed the user only the
    links they may see, and must keep the others (a curator whose group was narrowed)."""
    if instance.pk is None:
        return []  # nothing stored yet (and no link manager before the first save)
    manager: Any = getattr(instance, name)
    related = manager.model._default_manager
    if not hasattr(related, "restrict"):
        return []
    # Read through the link table: the instance may hold its links prefetched as the user
    # sees them.
    stored = manager.through._default_manager.filter(**{manager.source_field_name: instance.pk})
    linked = related.filter(pk__in=stored.values(manager.target_field_name))
    return list(linked.exclude(pk__in=related.restrict(user).values("pk")))


def save_changes(
    instance: models.Model,
    values: dict,
    *,
    links: dict[str, Iterable[models.Model]] | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
) -> bool:
    """``apply_changes``, then validate and save when something changed; many-to-many
    ``links`` are set where they differ. True when anything was written."""
    links = {name: list(targets) for name, targets in (links or {}).items()}
    if apply_changes(instance, values):
        save_entry(instance, user=user, reason=reason, links=links)
        return True
    return bool(links) and set_links(instance, links=links, user=user, reason=reason)


@transaction.atomic
def delete_entry(
    instance: models.Model, *, user: AbstractBaseUser | None = None, reason: str | None = None
) -> None:
    """Delete ``instance`` unless published entries show it (then ``InvariantError``)."""
    from core.choices import ReviewStatus
    from core.invariants import InvariantError, showing_problem
    from core.models import ReviewedModel

    if isinstance(instance, ReviewedModel) and instance.status == ReviewStatus.PUBLISHED:
        problem = showing_problem(instance, "deleted")
        if problem:
            raise InvariantError(problem)
    with attributed(user=user, reason=reason):
        instance.delete()
