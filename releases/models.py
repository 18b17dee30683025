"""Data releases: frozen, citable snapshots of the published corpus."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

# Calendar versioning: year, month, and a number within the month (2026.12.0, 2026.12.1...).
VERSION_RE = re.compile(r"^(?P<year>\d{4})\.(?P<month>0?[1-9]|1[0-2])\.(?P<n>\d{1,3})$")


class ReleaseImmutable(Exception):
    """A release or one of its artefacts was to be changed or deleted: make a new release."""


def validate_version(value: str) -> None:
    if not VERSION_RE.match(value or ""):
        raise ValidationError(
            f"'{value}' is not a release version: use year.month.number, e.g. 2026.12.0."
        )


class ImmutableQuerySet(models.QuerySet):
    """Bulk writes would bypass the model's refusal: they are refused too."""

    def update(self, **kwargs):
        raise ReleaseImmutable("Releases never change: make a new release instead.")

    def delete(self):
        raise ReleaseImmutable("Releases are never deleted: make a new release instead.")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ReleaseImmutable(
                f"{self._meta.verbose_name.capitalize()} {self} is frozen and cannot be "
                "changed: make a new release instead."
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ReleaseImmutable(
            f"{self._meta.verbose_name.capitalize()} {self} is frozen and cannot be deleted."
        )


class Release(ImmutableModel):
    """A frozen snapshot of the published corpus that readers can cite: its artefacts never
    change; a later edit goes into the next release."""

    version = models.CharField(
        "version",
        max_length=16,
        unique=True,
        validators=[validate_version],
        help_text="year.month.number, e.g. 2026.12.0",
    )
    # Not auto_now_add: a restore from a backup keeps the original time.
    created_at = models.DateTimeField("released at", default=timezone.now)
    evidence_cutoff = models.CharField(
        "evidence up to",
        max_length=16,
        blank=True,
        help_text="Newest publication year of the evidence it holds (ISO 8601).",
    )
    counts = models.JSONField("counts", default=dict)
    notes = models.TextField("notes", blank=True)
    # Not part of the release (backups and the API leave it out): this installation's own
    # record of when its published corpus was exactly this release. A release shipped with the
    # fixtures or restored from a backup is made long before the corpus is loaded here, so
    # comparing entries' modification times with ``created_at`` would call every freshly
    # loaded entry a change since the release; this time is set once, when the release is
    # added, and never changed, like the rest of it.
    current_since = models.DateTimeField(
        "corpus matched it from",
        null=True,
        blank=True,
        help_text="When this installation's published corpus was exactly this release: when "
        "it was made here, or loaded onto a corpus that matched it byte for byte; empty when "
        "it was loaded onto a corpus that differs from it.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"

    def __str__(self) -> str:
        return self.version

    def get_absolute_url(self) -> str:
        return reverse("releases:release_detail", args=[self.version])

    @property
    def citation(self) -> str:
        when = f"{self.created_at.day} {self.created_at:%B %Y}"
        return (
            f"MyoEvidence data release {self.version} ({when}): "
            f"a curated evidence base of treatments for idiopathic inflammatory myopathies"
            f"{f', evidence up to {self.evidence_cutoff}' if self.evidence_cutoff else ''}."
        )


class ReleaseArtefact(ImmutableModel):
    """One frozen file of a release (JSON, CSV, BibTeX, CSL-JSON, FHIR), with its checksum."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="artefacts")
    name = models.CharField("file name", max_length=80)
    media_type = models.CharField("media type", max_length=80)
    content = models.TextField("content")
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("bytes")

    class Meta:
        ordering = ["release", "name"]
        constraints = [
            models.UniqueConstraint(fields=["release", "name"], name="release_artefact_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.release_id and self.release.version}/{self.name}"

    def get_absolute_url(self) -> str:
        return reverse("releases:release_artefact", args=[self.release.version, self.name])
