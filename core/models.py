"""Abstract building blocks shared by the content apps."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models

from core.choices import ReviewStatus


class TimeStampedModel(models.Model):
    """Adds creation and last-modification times."""

    created = models.DateTimeField("created", auto_now_add=True)
    modified = models.DateTimeField("last modified", auto_now=True, db_index=True)

    class Meta:
        abstract = True


class ReviewedQuerySet(models.QuerySet):
    """Query helpers for content that goes through editorial review."""

    def published(self):
        return self.filter(status=ReviewStatus.PUBLISHED)

    def restrict(self, user):
        """What ``user`` may see: the one visibility rule of the whole site.

        Pages, the API, search, counts, the matrix, filter choices, feeds and exports all read
        through this method (base views and viewsets apply it to their querysets; prefetches of
        reverse relations pass a restricted queryset). Who sees unpublished entries is decided
        by ``core.workflow.sees_unpublished``: group membership and the model's view
        permission, not ``is_staff``.
        """
        from core.workflow import sees_unpublished  # the workflow module imports this one

        if sees_unpublished(user, self.model):
            return self
        return self.published()


class ReviewedModel(TimeStampedModel):
    """Curated content with an editorial status and a record of who reviewed it."""

    status = models.CharField(
        "review status",
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.DRAFT,
        db_index=True,
        help_text="Only published entries appear on public pages and to anonymous API clients.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="submitted by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField("submitted at", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="reviewed by",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("reviewed at", null=True, blank=True)
    review_comment = models.TextField("editor's comment", blank=True)

    class Meta:
        abstract = True

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.PUBLISHED

    # What readers see of an entry includes other entries: a study shows its reference and
    # therapies. ``shows`` names those fields (foreign keys or many-to-many to other reviewed
    # models); from it alone the workflow and every write (core.invariants) keep the rule "a
    # published entry shows only published entries", in both directions.
    shows: tuple[str, ...] = ()

    def shown_entries(self) -> list[ReviewedModel]:
        """The reviewed entries this one shows to readers once published."""
        entries: list[ReviewedModel] = []
        for name in self.shows:
            field = self._meta.get_field(name)
            if field.many_to_many:
                if self.pk is not None:
                    entries.extend(getattr(self, name).all())
            elif (target := getattr(self, name)) is not None:
                entries.append(target)
        return entries

    def published_showing(self) -> list[ReviewedModel]:
        """The published entries that show this one to readers."""
        if self.pk is None:
            return []
        return [
            entry
            for model, name in showing_fields(type(self))
            for entry in model._default_manager.published().filter(**{name: self})
        ]


def showing_fields(target: type[models.Model]) -> list[tuple[type[ReviewedModel], str]]:
    """(model, field name) for every ``shows`` field of a reviewed model pointing at
    ``target``: the entries that can show a ``target`` entry."""
    found = []
    for model in apps.get_models():
        if issubclass(model, ReviewedModel):
            for name in model.shows:
                if model._meta.get_field(name).related_model is target:
                    found.append((model, name))
    return found


class Contribution(models.Model):
    """A user who changed an entry's content (not its review status).

    The four-eyes rule reads these: nobody publishes an entry they wrote or changed. A row is
    recorded for every history record that has a user, on the entry itself or on a row that is
    part of it (``part_of``: an outcome of a study, an author of a reference), whatever wrote it
    (admin, API, importer, revert), by ``core.invariants``.
    """

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contributions"
    )
    first_changed = models.DateTimeField("first change")
    last_changed = models.DateTimeField("latest change")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="contribution_unique_entry_user"
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "last_changed"])]

    def __str__(self) -> str:
        return f"{self.user} changed {self.content_type} #{self.object_id}"


def entry_of(instance: models.Model | None) -> ReviewedModel | None:
    """The reviewed entry a row belongs to: itself, or (following ``part_of``, e.g. an arm's
    result → its outcome → its study) the entry that contains it."""
    while instance is not None and not isinstance(instance, ReviewedModel):
        parent = getattr(type(instance), "part_of", None)
        instance = getattr(instance, parent, None) if parent else None
    return instance


class ContentGeneration(models.Model):
    """The number of the current state of the published content (one row).

    Every transaction that changes content adds one to ``value`` before it commits
    (``core.caching.generation``), so a reader sees the new number exactly when it sees the
    new content. Cached pages and values are stored with the number they were computed under
    and trusted only while it is current.
    """

    value = models.BigIntegerField("generation")

    class Meta:
        verbose_name = "content generation"

    def __str__(self) -> str:
        return str(self.value)
