"""Abstract building blocks shared by the content apps."""

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

    def visible_to(self, user):
        """Published entries for the public; everything for staff (curators and editors)."""
        if user is not None and user.is_authenticated and user.is_staff:
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
    # therapies. The workflow publishes an entry only when those are published, and withdraws
    # one only when no published entry shows it (core.workflow).

    def shown_entries(self) -> list["ReviewedModel"]:
        """The reviewed entries this one shows to readers once published."""
        return []

    def published_showing(self) -> list["ReviewedModel"]:
        """The published entries that show this one to readers."""
        return []
