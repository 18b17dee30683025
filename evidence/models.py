"""Disease subtypes, studies, their outcomes and provenance, and the review's statements."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import ReviewedModel, ReviewedQuerySet, TimeStampedModel
from core.validators import validate_http_url
from evidence.choices import (
    AgeGroup,
    Blinding,
    EvidenceLevel,
    OutcomeMeasure,
    Phase,
    ProvenanceSource,
    ResultDirection,
    StudyDesign,
)
from evidence.levels import effective_level, suggested_level


class DiseaseSubtype(ReviewedModel):
    """A clinical or antibody-defined form of idiopathic inflammatory myopathy.

    Under the editorial workflow like every content model: its name, synonyms and description
    are public text, so a new or changed subtype is published by an editor.
    """

    code = models.SlugField(
        "code", max_length=32, unique=True, help_text="Short stable code, e.g. dm, jdm, anti-srp."
    )
    slug = models.SlugField("slug", max_length=80, unique=True)
    name = models.CharField("name", max_length=120, unique=True)
    abbreviation = models.CharField("abbreviation", max_length=32, blank=True)
    synonyms = models.CharField(
        "synonyms", max_length=500, blank=True, help_text="Comma-separated (searchable)."
    )
    description = models.TextField("description", blank=True)
    order = models.PositiveSmallIntegerField("display order", default=100)

    history = HistoricalRecords()
    objects = ReviewedQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("evidence:subtype_detail", args=[self.slug])

    @property
    def synonym_list(self) -> list[str]:
        return [s.strip() for s in self.synonyms.split(",") if s.strip()]


class StudyQuerySet(ReviewedQuerySet):
    # Tables of studies are read as plain values: evidence.selectors.study_rows.

    def for_detail(self):
        """One study with everything (detail page, API, CSV)."""
        return self.select_related("reference").prefetch_related(
            "therapies", "subtypes", "reference__authors", "outcomes", "provenance")

    def for_therapy(self, therapy):
        return self.filter(therapies=therapy)


class Study(ReviewedModel):
    """One study reported by a reference: what was tested, in whom, how, and what it found."""

    key = models.SlugField(
        "key", max_length=80, unique=True,
        help_text="Stable identifier used by the corpus fixtures, e.g. ref01-rim-trial.",
    )
    reference = models.ForeignKey(
        "references.Reference", verbose_name="reference", on_delete=models.PROTECT,
        related_name="studies",
    )
    label = models.CharField("short name", max_length=200)
    therapies = models.ManyToManyField(
        "therapies.Therapy", verbose_name="therapies tested", related_name="studies"
    )
    subtypes = models.ManyToManyField(
        DiseaseSubtype, verbose_name="disease subtypes", related_name="studies"
    )
    design = models.CharField("design", max_length=32, choices=StudyDesign.choices)
    phase = models.CharField("phase", max_length=8, choices=Phase.choices, blank=True)
    blinding = models.CharField("blinding", max_length=8, choices=Blinding.choices, blank=True)
    comparator = models.CharField("comparator", max_length=300, blank=True)
    sample_size = models.PositiveIntegerField(
        "patients", null=True, blank=True, help_text="Empty when the record does not state it."
    )
    age_group = models.CharField("age group", max_length=8, choices=AgeGroup.choices, blank=True)
    refractory = models.BooleanField(
        "refractory population", null=True, blank=True, help_text="Empty: not stated."
    )
    primary_endpoint = models.TextField("primary endpoint", blank=True)
    primary_endpoint_met = models.BooleanField(
        "primary endpoint met", null=True, blank=True, help_text="Empty: not stated."
    )
    result = models.CharField("result", max_length=32, choices=ResultDirection.choices)
    summary = models.TextField("summary", help_text="1-3 sentences in our own words.")
    adverse_events = models.TextField("adverse events", blank=True)
    follow_up = models.CharField("follow-up", max_length=120, blank=True)
    level_override = models.PositiveSmallIntegerField(
        "level override", choices=EvidenceLevel.choices, null=True, blank=True,
        help_text="Only when the design's suggested level does not fit; give a reason.",
    )
    level_override_reason = models.TextField("reason for the override", blank=True)
    level = models.PositiveSmallIntegerField(
        "level of evidence", choices=EvidenceLevel.choices, null=True, blank=True, editable=False,
        help_text="Oxford CEBM 2011: the override if given, else suggested from the design.",
    )
    verified = models.BooleanField(
        "verified", default=False, help_text="A curator checked every fact against its record."
    )

    history = HistoricalRecords(m2m_fields=[therapies, subtypes])
    objects = StudyQuerySet.as_manager()
    shows = ("reference", "therapies", "subtypes")

    class Meta:
        verbose_name_plural = "studies"
        # Newest first; within a year the review's numbering, then the usual bibliographic
        # order (first author), then one reference's studies together. Every key up to the
        # reference's id is in one index (references: reference_chronology_idx), so a page
        # of a large list reads its first rows from that index instead of sorting a year.
        ordering = ["-reference__year", "reference__number", "reference__first_author",
                    "reference_id", "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level_override__isnull=True) | ~Q(level_override_reason=""),
                name="study_override_needs_reason",
                violation_error_message="A level override needs a reason.",
            ),
        ]
        indexes = [
            models.Index(fields=["design"]),
            models.Index(fields=["result"]),
            models.Index(fields=["level"]),
            models.Index(fields=["sample_size"]),
            models.Index(fields=["age_group"]),
            models.Index(fields=["refractory"]),
            # Public reads filter on status first: the corpus status and the API's validators
            # (count, latest change) and the design counts are then read from the index alone.
            models.Index(fields=["status", "modified"], include=["id"],
                         name="study_status_modified_idx"),
            models.Index(fields=["status", "design"], include=["id"],
                         name="study_status_design_idx"),
        ]

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("evidence:study_detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.level_override is not None and not self.level_override_reason.strip():
            raise ValidationError(
                {"level_override_reason": "Give the reason for overriding the suggested level."}
            )

    def save(self, *args, **kwargs):
        self.level = effective_level(self.design, self.level_override)
        super().save(*args, **kwargs)

    @property
    def suggested_level(self) -> int | None:
        return suggested_level(self.design)

    @property
    def level_reason(self) -> str:
        """Why the study has its level, in one sentence for the reader."""
        if self.level_override is not None:
            return f"Set by a curator: {self.level_override_reason}"
        if self.level is None:
            return "Guidelines and consensus statements are not graded as primary evidence."
        return f"Suggested by the design ({self.get_design_display()})."


class Outcome(TimeStampedModel):
    """A measured result of a study at a time point (responders/n or a value)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="outcomes")
    measure = models.CharField("measure", max_length=32, choices=OutcomeMeasure.choices)
    description = models.CharField("description", max_length=300, blank=True)
    timepoint = models.CharField("time point", max_length=80, blank=True)
    responders = models.PositiveIntegerField("responders", null=True, blank=True)
    n = models.PositiveIntegerField("of n", null=True, blank=True)
    value = models.CharField("value", max_length=200, blank=True)
    is_primary = models.BooleanField("primary endpoint", default=False)
    order = models.PositiveSmallIntegerField("order", default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["study", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(responders__isnull=True) | Q(n__isnull=True)
                | Q(responders__lte=models.F("n")),
                name="outcome_responders_within_n",
                violation_error_message="Responders cannot exceed n.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_measure_display()}: {self.display_value}"

    @property
    def display_value(self) -> str:
        parts = []
        if self.responders is not None and self.n:
            parts.append(f"{self.responders}/{self.n} ({round(100 * self.responders / self.n)}%)")
        if self.value:
            parts.append(self.value)
        return "; ".join(parts) or "not reported"


class Provenance(TimeStampedModel):
    """Where facts of a study came from, and whether a curator has verified them."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="provenance")
    source = models.CharField("source", max_length=16, choices=ProvenanceSource.choices)
    url = models.URLField("record URL", max_length=500, blank=True,
                          validators=[validate_http_url])
    pmid = models.CharField("PMID of the record", max_length=8, blank=True)
    facts = models.JSONField(
        "facts taken", default=list, blank=True,
        help_text="Which fields came from this record, e.g. [\"sample_size\", \"outcomes\"].",
    )
    note = models.TextField("note", blank=True)
    verified = models.BooleanField("verified by a curator", default=False)
    verified_by = models.CharField("verified by", max_length=150, blank=True)
    verified_at = models.DateTimeField("verified at", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "provenance"
        ordering = ["study", "pk"]

    def __str__(self) -> str:
        return f"{self.study}: {self.get_source_display()}"


class StatementQuerySet(ReviewedQuerySet):
    def for_list(self):
        return self.select_related("therapy").prefetch_related(
            "studies", "references", "references__authors"
        )


class Statement(ReviewedModel):
    """A summary claim the review makes about a therapy, linked to what supports it."""

    therapy = models.ForeignKey(
        "therapies.Therapy", on_delete=models.CASCADE, related_name="statements"
    )
    key = models.SlugField("key", max_length=80, unique=True)
    text = models.TextField("statement", help_text="The review's claim, in our own words.")
    studies = models.ManyToManyField(Study, related_name="statements", blank=True)
    references = models.ManyToManyField(
        "references.Reference", related_name="statements", blank=True
    )
    order = models.PositiveSmallIntegerField("order", default=0)

    history = HistoricalRecords(m2m_fields=[studies, references])
    objects = StatementQuerySet.as_manager()
    shows = ("therapy", "studies", "references")

    class Meta:
        ordering = ["therapy", "order", "pk"]

    def __str__(self) -> str:
        return self.text[:80]

