"""Rules every write keeps, whichever entry point made it (admin, API, importer, loader, shell).

* **A published entry shows only published entries** (``ReviewedModel.shows``). Checked when a
  published entry is saved with a foreign key to an unpublished one, when an unpublished entry
  is linked to a published one (many-to-many, from either side), and when a published entry
  that published entries show stops being published outside the workflow. Deleting such an
  entry is refused where people delete: the admin lists the published entries that show it as
  protected (``ReviewedAdminMixin.get_deleted_objects``); the API has no delete, and a
  signal cannot tell a lone delete from a cascade that removes the showing entries too.
  The services, the admin's forms and the API check first and answer with a clear message; the
  signal handlers here are the backstop that no code path can skip (a ``WorkflowError`` aborts
  the write and its transaction).
* **Who changed an entry** is recorded as a ``Contribution`` from every history record that has
  a user, so the four-eyes rule (``core.workflow``) knows its authors.

Signals were chosen over a save() override because many-to-many links never pass through
``Model.save``; they are connected once in ``CoreConfig.ready``.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import m2m_changed, pre_save
from django.utils import timezone
from simple_history.signals import post_create_historical_record

from core.choices import ReviewStatus
from core.models import Contribution, ReviewedModel, entry_of

PUBLISHED = ReviewStatus.PUBLISHED


class InvariantError(ValueError):
    """A write that would put an unpublished entry on a public page."""


def _name(entry: models.Model) -> str:
    status = getattr(entry, "get_status_display", lambda: "")()
    return f'the {entry._meta.verbose_name} "{str(entry)[:60]}"' + (
        f" ({status})" if status else ""
    )


def _names(entries) -> str:
    entries = list(entries)
    shown = "; ".join(_name(e) for e in entries[:5])
    return shown + (f"; and {len(entries) - 5} more" if len(entries) > 5 else "")


def unpublished_shown(obj: ReviewedModel, values: dict | None = None) -> list[ReviewedModel]:
    """The unpublished entries ``obj`` would show, from ``values`` (a form's or serializer's
    cleaned data: a model instance or an iterable of them per field) or its stored links."""
    values = values or {}
    waiting = []
    for name in obj.shows:
        field = obj._meta.get_field(name)
        if name in values:
            value = values[name]
            targets = list(value) if field.many_to_many else [value]
        elif field.many_to_many:
            targets = list(getattr(obj, name).all()) if obj.pk is not None else []
        else:
            targets = [getattr(obj, name)]
        waiting += [t for t in targets if t is not None and t.status != PUBLISHED]
    return waiting


def published_shows_problem(
    obj: ReviewedModel, values: dict | None = None, status: str | None = None
) -> str | None:
    """The refusal to give when ``obj`` (published, or about to be) would show unpublished
    entries; None when the write keeps the rule."""
    if (status or obj.status) != PUBLISHED:
        return None
    waiting = unpublished_shown(obj, values)
    if not waiting:
        return None
    return (
        f"This {obj._meta.verbose_name} is published, so it may show only published "
        f"entries; these are not published yet: {_names(waiting)}."
    )


def showing_problem(obj: ReviewedModel, verb: str) -> str | None:
    """The refusal to give when published entries show ``obj`` and it would stop being
    public (``verb``: "deleted", "set back to draft"...)."""
    showing = obj.published_showing()
    if not showing:
        return None
    return (
        f"Published entries show this {obj._meta.verbose_name}, so it cannot be {verb}; "
        f"withdraw them or unlink it first: {_names(showing)}."
    )


# -- signal handlers ---------------------------------------------------------------------------


def _check_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    if not isinstance(instance, ReviewedModel):
        _check_part(instance)
        return
    forward = {
        name: getattr(instance, name)
        for name in instance.shows
        if not instance._meta.get_field(name).many_to_many
    }
    problem = published_shows_problem(instance, forward)
    if problem is None and instance.status != PUBLISHED and instance.pk is not None:
        stored = (
            type(instance)
            ._default_manager.filter(pk=instance.pk)
            .values_list("status", flat=True)
            .first()
        )
        if stored == PUBLISHED:
            problem = showing_problem(instance, f"set to {instance.get_status_display()}")
    if problem:
        raise InvariantError(problem)


def _check_part(row) -> None:
    """A row that is part of a published entry (an arm of a study) shows what its own ``shows``
    names (the arm's therapy): those must be published too."""
    names = getattr(type(row), "shows", ())
    if not names:
        return
    entry = entry_of(row)
    if entry is None or entry.status != PUBLISHED:
        return
    waiting = [
        t
        for t in (getattr(row, name) for name in names)
        if t is not None and getattr(t, "status", PUBLISHED) != PUBLISHED
    ]
    if waiting:
        raise InvariantError(
            f"This {row._meta.verbose_name} belongs to a published {entry._meta.verbose_name}, "
            f"so it may show only published entries; these are not published yet: "
            f"{_names(waiting)}."
        )


def _check_link(sender, instance, action, reverse, model, pk_set, **kwargs):
    if action != "pre_add" or not pk_set:
        return
    if not reverse:
        owner, added = instance, list(model._default_manager.filter(pk__in=pk_set))
        if isinstance(owner, ReviewedModel) and owner.status == PUBLISHED:
            waiting = [t for t in added if getattr(t, "status", PUBLISHED) != PUBLISHED]
            if waiting:
                raise InvariantError(
                    f"This {owner._meta.verbose_name} is published, so it may show only "
                    f"published entries; these are not published yet: {_names(waiting)}."
                )
    elif getattr(instance, "status", PUBLISHED) != PUBLISHED:
        owners = model._default_manager.filter(pk__in=pk_set, status=PUBLISHED)
        if owners:
            name = _name(instance)
            raise InvariantError(
                f"{name[0].upper()}{name[1:]} is not published, so published entries may "
                f"not show it: {_names(owners)}."
            )


def _record_contribution(sender, instance, history_instance, history_user=None, **kwargs):
    if history_user is None and history_instance.history_user_id is not None:
        # Attributed by core.services after simple-history chose the user (none: a command).
        history_user = history_instance.history_user
    if history_user is None or getattr(instance, "_workflow_transition", False):
        return
    entry = entry_of(instance)
    if entry is None or entry.pk is None:
        return
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(type(entry))
    updated = Contribution.objects.filter(
        content_type=content_type,
        object_id=entry.pk,
        user_id=history_user.pk,
    ).update(last_changed=now)
    if not updated:
        Contribution.objects.create(
            content_type=content_type,
            object_id=entry.pk,
            user_id=history_user.pk,
            first_changed=now,
            last_changed=now,
        )


def connect() -> None:
    pre_save.connect(_check_save, dispatch_uid="invariants-save")
    post_create_historical_record.connect(
        _record_contribution, dispatch_uid="invariants-contribution"
    )
    for model in apps.get_models():
        if issubclass(model, ReviewedModel):
            for name in model.shows:
                field = model._meta.get_field(name)
                if field.many_to_many:
                    m2m_changed.connect(
                        _check_link,
                        sender=field.remote_field.through,
                        dispatch_uid=f"invariants-{model._meta.label}-{name}",
                    )
