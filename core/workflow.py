"""The editorial workflow shared by every reviewed model (references, therapies, studies...).

An entry moves draft → submitted → published, or submitted → rejected; a published entry can be
withdrawn; a rejected or withdrawn entry can be submitted again. An entry that shows others to
readers (a study its reference and therapies; a statement its therapy, studies and references)
is published only when they are; an entry is withdrawn only when no published entry shows it
(``ReviewedModel.shown_entries`` and ``published_showing``), so a public page never links to,
or prints, something readers may not see. Only published entries are
public (``ReviewedQuerySet.published()``/``restrict()``). Each transition records who and when
on the entry (``submitted_by``/``submitted_at`` or ``reviewed_by``/``reviewed_at`` plus the
editor's ``review_comment``) and in its history (with the comment as the change reason).

Who may do what is represented by **group membership**, not by custom permissions:

* ``Curators`` (group) create and edit entries and submit them for review. Their Django model
  permissions (add/change/view; delete only on rows that are part of an entry, such as authors
  and outcomes) come from the data migration ``core/migrations/0001_editorial_groups.py``.
* ``Editors`` (group) may also publish, reject and withdraw, edit published entries and delete.
* A superuser may do everything, including publishing their own submission.

Group membership was chosen because ``core`` has no model to hang a custom permission on and
the rule "publish" applies to every reviewed model alike; ``can_publish()`` is the one place that
decides it. Curators cannot change a published entry: an editor withdraws it (or edits it).
Staff status (``is_staff``) is still what lets a user into the admin.

The admin, the API and the importers call these functions, so the rules hold everywhere. The
loader (fixtures, backups) sets the status its source states through ``load_status``: no user
decides there, but the same invariants hold. Nothing else sets ``status`` (see
docs/architecture.md, "Writes").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from core.choices import ReviewStatus

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from core.models import ReviewedModel

    User = AbstractBaseUser | AnonymousUser

CURATORS = "Curators"
EDITORS = "Editors"

WORKFLOW_FIELDS = (
    "status",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
)
# Statuses from which an entry may be submitted for review.
SUBMITTABLE = frozenset({ReviewStatus.DRAFT, ReviewStatus.REJECTED, ReviewStatus.WITHDRAWN})
# simple-history stores the change reason in a 100-character column.
_REASON_MAX = 100


class WorkflowError(ValueError):
    """A transition that is not allowed; the message says why in one sentence."""


def _group_names(user: User | None) -> set[str]:
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    # Cached on the user object: the admin asks several times per request.
    if not hasattr(user, "_workflow_groups"):
        user._workflow_groups = set(user.groups.values_list("name", flat=True))
    return user._workflow_groups


def is_curator(user: User | None) -> bool:
    """True for members of Curators or Editors, and for superusers."""
    if user is not None and user.is_active and user.is_superuser:
        return True
    return bool(_group_names(user) & {CURATORS, EDITORS})


def sees_unpublished(user: User | None, model: type[models.Model]) -> bool:
    """May ``user`` see drafts, submissions and withdrawn entries of ``model``?

    Curators, editors and superusers do, given Django's view permission on the model (so a
    group whose permissions were narrowed is respected). Staff status alone does not: it only
    opens the admin's door. ``ReviewedQuerySet.restrict`` is the one caller.
    """
    if not is_curator(user):
        return False
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


def can_publish(user: User | None) -> bool:
    """True for editors and superusers: they publish, reject and withdraw entries."""
    if user is not None and user.is_active and user.is_superuser:
        return True
    return EDITORS in _group_names(user)


def can_edit(user: User | None, obj: models.Model | None = None) -> bool:
    """May ``user`` create and edit entries (or, given ``obj``, edit that entry now)?

    Curators edit drafts, submitted, rejected and withdrawn entries; only editors (and
    superusers) change a published one. With ``obj`` the user also needs Django's change
    permission on its model, so a group whose permissions were narrowed is respected.
    """
    if not is_curator(user):
        return False
    if obj is None:
        return True
    opts = obj._meta
    if not user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        return False
    return getattr(obj, "status", None) != ReviewStatus.PUBLISHED or can_publish(user)


def allowed_actions(obj: ReviewedModel, user: User | None) -> list[str]:
    """The transitions ``user`` may apply to ``obj`` now, for buttons in the admin and API."""
    actions = []
    if obj.status in SUBMITTABLE and can_edit(user, obj):
        actions.append("submit")
    if can_publish(user):
        if obj.status == ReviewStatus.SUBMITTED:
            if not _is_own_submission(obj, user):
                actions.append("publish")
            actions.append("reject")
        elif obj.status == ReviewStatus.PUBLISHED:
            actions.append("withdraw")
    return actions


def authors(obj: ReviewedModel) -> set[int]:
    """Ids of the users who wrote or changed ``obj`` (its submitter included)."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import Contribution

    ids = (
        set(
            Contribution.objects.filter(
                content_type=ContentType.objects.get_for_model(type(obj)),
                object_id=obj.pk,
            ).values_list("user_id", flat=True)
        )
        if obj.pk is not None
        else set()
    )
    if obj.submitted_by_id is not None:
        ids.add(obj.submitted_by_id)
    return ids


def entry_version(obj: ReviewedModel) -> str:
    """A token that changes whenever the entry's content changes (its own row or a row that is
    part of it): the review page carries it, so that a publish decided on an older copy is
    refused."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Max

    from core.models import Contribution

    latest = Contribution.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
    ).aggregate(latest=Max("last_changed"))["latest"]
    return (
        f"{obj.modified.isoformat() if obj.modified else ''}|{latest.isoformat() if latest else ''}"
    )


def _is_own_submission(obj: ReviewedModel, user: User) -> bool:
    """Did ``user`` submit, write or change ``obj``? (Superusers may still publish it.)"""
    return not user.is_superuser and user.pk in authors(obj)


def _label(obj: models.Model) -> str:
    return f"this {obj._meta.verbose_name}"


def _listing(entries: list[models.Model], shown: int = 5) -> str:
    """'the reference "[12] Oddis 2013", the therapy "Rituximab" and 3 more'."""
    names = [
        f'the {e._meta.verbose_name} "{str(e)[:60]}" ({_IS[e.status]})' for e in entries[:shown]
    ]
    more = len(entries) - shown
    return "; ".join(names) + (f"; and {more} more" if more > 0 else "")


# How a status reads after "this study is ...".
_IS = {
    ReviewStatus.DRAFT: "a draft",
    ReviewStatus.SUBMITTED: "submitted for review",
    ReviewStatus.PUBLISHED: "published",
    ReviewStatus.REJECTED: "rejected",
    ReviewStatus.WITHDRAWN: "withdrawn",
}
_ORDER = list(ReviewStatus.values)


def _locked(obj: ReviewedModel) -> ReviewedModel:
    """The entry as stored now, locked until the transaction ends (two editors cannot race)."""
    if obj.pk is None:
        raise WorkflowError(f"Save {_label(obj)} before changing its review status.")
    return type(obj)._default_manager.select_for_update().get(pk=obj.pk)


def _require_status(current: ReviewedModel, allowed: set[str] | frozenset[str], verb: str):
    if current.status not in allowed:
        names = sorted(allowed, key=_ORDER.index)
        wanted = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
        raise WorkflowError(
            f"Only a {wanted} entry can be {verb}; {_label(current)} is {_IS[current.status]}."
        )


def _require_comment(comment: str | None, verb: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise WorkflowError(f"Give a comment saying why the entry is {verb}.")
    return comment


def _save(current: ReviewedModel, obj: ReviewedModel, *, user: User, reason: str) -> None:
    """Validate and save the locked copy, then mirror the workflow fields onto ``obj``."""
    current._history_user = user
    current._change_reason = reason[:_REASON_MAX]
    # A transition is a decision about the entry, not a change of its content: its history
    # record must not make the editor one of the entry's authors (core.invariants).
    current._workflow_transition = True
    try:
        current.full_clean()
    except ValidationError as exc:
        problems = "; ".join(exc.messages)
        raise WorkflowError(
            f"{_label(current).capitalize()} cannot change status until it is valid: {problems}"
        ) from None
    current.save()
    for name in (*WORKFLOW_FIELDS, "modified"):
        setattr(obj, name, getattr(current, name))


@transaction.atomic
def submit(obj: ReviewedModel, *, user: User) -> ReviewedModel:
    """Send a draft, rejected or withdrawn entry to the editors for review."""
    if not is_curator(user):
        raise WorkflowError("Only curators and editors can submit entries for review.")
    current = _locked(obj)
    _require_status(current, SUBMITTABLE, "submitted")
    if not can_edit(user, current):
        raise WorkflowError(f"You may not change {_label(current)}.")
    current.status = ReviewStatus.SUBMITTED
    current.submitted_by = user
    current.submitted_at = timezone.now()
    _save(current, obj, user=user, reason="Submitted for review")
    return obj


@transaction.atomic
def publish(
    obj: ReviewedModel, *, user: User, comment: str, reviewed_version: str | None = None
) -> ReviewedModel:
    """Make a submitted entry public; the editor says why, and may not be one of its authors
    (whoever submitted, wrote or changed it). ``reviewed_version`` (``entry_version`` of the
    copy the editor read) refuses a publish decided on a copy that has changed since."""
    return _review(
        obj,
        user=user,
        comment=comment,
        to=ReviewStatus.PUBLISHED,
        allowed={ReviewStatus.SUBMITTED},
        verb="published",
        reviewed_version=reviewed_version,
    )


@transaction.atomic
def reject(obj: ReviewedModel, *, user: User, comment: str) -> ReviewedModel:
    """Send a submitted entry back to the curators with the editor's reasons."""
    return _review(
        obj,
        user=user,
        comment=comment,
        to=ReviewStatus.REJECTED,
        allowed={ReviewStatus.SUBMITTED},
        verb="rejected",
    )


@transaction.atomic
def withdraw(obj: ReviewedModel, *, user: User, comment: str) -> ReviewedModel:
    """Take a published entry off the public site (it can be corrected and resubmitted)."""
    return _review(
        obj,
        user=user,
        comment=comment,
        to=ReviewStatus.WITHDRAWN,
        allowed={ReviewStatus.PUBLISHED},
        verb="withdrawn",
    )


def _review(
    obj,
    *,
    user,
    comment,
    to: str,
    allowed: set[str],
    verb: str,
    reviewed_version: str | None = None,
) -> ReviewedModel:
    if not can_publish(user):
        raise WorkflowError(f"Only editors can decide whether an entry is {verb}.")
    comment = _require_comment(comment, verb)
    current = _locked(obj)
    _require_status(current, allowed, verb)
    if reviewed_version is not None and reviewed_version != entry_version(current):
        raise WorkflowError(
            f"{_label(current).capitalize()} changed after you opened it for review; read "
            "the changes and decide again."
        )
    if to == ReviewStatus.PUBLISHED and _is_own_submission(current, user):
        raise WorkflowError(
            "You submitted, wrote or changed this entry, so another editor must publish it."
        )
    if to == ReviewStatus.PUBLISHED and user.is_superuser and user.pk in authors(current):
        # Superusers are trusted to publish their own work, but it stays visible that the
        # four-eyes rule was not applied.
        comment = f"[published by a superuser who wrote or changed it] {comment}"
    if to == ReviewStatus.PUBLISHED:
        waiting = [e for e in current.shown_entries() if e.status != ReviewStatus.PUBLISHED]
        if waiting:
            raise WorkflowError(
                f"{_label(current).capitalize()} shows entries readers cannot see yet; publish "
                f"them first: {_listing(waiting)}."
            )
    if to == ReviewStatus.WITHDRAWN:
        showing = current.published_showing()
        if showing:
            raise WorkflowError(
                f"Published entries show {_label(current)}; withdraw them (or unlink it) "
                f"first: {_listing(showing)}."
            )
    current.status = to
    current.reviewed_by = user
    current.reviewed_at = timezone.now()
    current.review_comment = comment
    _save(current, obj, user=user, reason=f"{verb.capitalize()}: {comment}")
    return obj


@transaction.atomic
def load_status(obj: ReviewedModel, *, status: str, reason: str | None = None) -> bool:
    """Give ``obj`` the status a trusted source states (the curated fixtures, a backup being
    restored); True when it changed. Used by ``load_corpus`` through the services.

    Not a transition: nobody decides here, so there is no user, no four-eyes rule and no
    ``reviewed_by``; what the fixtures say was decided by the review's authors. The
    invariants of the transitions still hold: an entry is published only when what it shows
    is, and stops being published only when no published entry shows it (both refused with
    ``core.invariants.InvariantError``, naming the entries).
    """
    from core.invariants import InvariantError, published_shows_problem, showing_problem

    try:
        obj._meta.get_field("status").validate(status, obj)
    except ValidationError as exc:
        # As full_clean words it, so a loader's report reads the same as for any field.
        raise ValidationError({"status": exc.messages}) from None
    if obj.pk is None:
        raise WorkflowError(f"Save {_label(obj)} before changing its review status.")
    if obj.status == status:
        return False
    problem = published_shows_problem(obj, status=status)
    if problem is None and obj.status == ReviewStatus.PUBLISHED:
        problem = showing_problem(obj, f"set to {ReviewStatus(status).label.lower()}")
    if problem:
        raise InvariantError(problem)
    obj.status = status
    if reason:
        obj._change_reason = reason[:_REASON_MAX]
    obj.save()
    return True


TRANSITIONS: dict[str, Any] = {
    "submit": submit,
    "publish": publish,
    "reject": reject,
    "withdraw": withdraw,
}
