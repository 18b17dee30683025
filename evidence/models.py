"""Disease subtypes, studies, their outcomes and provenance, and the review's statements;
trials grouping publications, study arms, and curators' certainty overrides."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import ReviewedModel, ReviewedQuerySet, TimeStampedModel
from core.validators import validate_http_url
from evidence.choices import (
    AgeGroup,
    ArmRole,
    Blinding,
    Certainty,
    DataAvailability,
    EvidenceLevel,
    OutcomeMeasure,
    Phase,
    ProvenanceSource,
    PublicationRole,
    ResultDirection,
    StudyDesign,
    TrialKind,
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


# Registry identifiers we accept, each with the public page it links to. ClinicalTrials.gov is
# the one the corpus uses; the others are the common primary registries of the WHO ICTRP.
REGISTRY_PATTERNS = {
    "clinicaltrials.gov": (re.compile(r"^NCT\d{8}$"), "https://clinicaltrials.gov/study/{}"),
    "isrctn": (re.compile(r"^ISRCTN\d{8}$"), "https://www.isrctn.com/{}"),
    "eudract": (
        re.compile(r"^\d{4}-\d{6}-\d{2}$"),
        "https://www.clinicaltrialsregister.eu/ctr-search/search?query={}",
    ),
    "umin": (
        re.compile(r"^UMIN\d{9}$"),
        "https://center6.umin.ac.jp/cgi-open-bin/ctr_e/ctr_view.cgi?recptno={}",
    ),
    "jprn": (
        re.compile(r"^JPRN-[A-Za-z0-9]+$"),
        "https://trialsearch.who.int/Trial2.aspx?TrialID={}",
    ),
}


def registry_url(registry_id: str) -> str:
    """The public page of a registry id ('' for an id of no known registry)."""
    for pattern, url in REGISTRY_PATTERNS.values():
        if pattern.match(registry_id):
            return url.format(registry_id)
    return ""


def validate_registry_ids(value) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('Registry ids must be a list of strings, e.g. ["NCT00106184"].')
    bad = [v for v in value if not registry_url(v)]
    if bad:
        raise ValidationError(
            f"Not a registry id we know: {', '.join(bad)} (ClinicalTrials.gov ids are NCT and "
            "8 digits; ISRCTN, EudraCT, UMIN and JPRN ids are also accepted)."
        )
    if len(set(value)) != len(value):
        raise ValidationError("A registry id is listed twice.")


class Trial(ReviewedModel):
    """One trial or cohort: the patients that several publications (primary report, secondary
    analyses, extensions, abstracts) report on. Its patients are counted once."""

    key = models.SlugField(
        "key",
        max_length=80,
        unique=True,
        help_text="Stable identifier used by the fixtures, e.g. rim.",
    )
    name = models.CharField("name", max_length=200)
    kind = models.CharField(
        "kind", max_length=8, choices=TrialKind.choices, default=TrialKind.TRIAL
    )
    registry_ids = models.JSONField(
        "registry ids",
        default=list,
        blank=True,
        validators=[validate_registry_ids],
        help_text='Only ids a public record shows for this trial, e.g. ["NCT00106184"].',
    )
    registry_source_url = models.URLField("where the ids were seen", max_length=500, blank=True)
    note = models.TextField(
        "note", blank=True, help_text="Why these publications report the same patients."
    )

    history = HistoricalRecords()
    objects = ReviewedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "key"]

    def __str__(self) -> str:
        return self.name

    @property
    def registry_links(self) -> list[tuple[str, str]]:
        return [(rid, registry_url(rid)) for rid in self.registry_ids]


class StudyQuerySet(ReviewedQuerySet):
    # Tables of studies are read as plain values: evidence.selectors.study_rows.

    def for_detail(self):
        """One study with everything (detail page, API, CSV)."""
        return self.select_related("reference", "trial").prefetch_related(
            "therapies",
            "subtypes",
            "reference__authors",
            "outcomes",
            "provenance",
            # One query each (arms with their therapy, counts with their subtype).
            models.Prefetch("arms", queryset=Arm.objects.select_related("therapy")),
            models.Prefetch(
                "subtype_counts", queryset=StudySubtypeCount.objects.select_related("subtype")
            ),
        )

    def for_therapy(self, therapy):
        return self.filter(therapies=therapy)


class Study(ReviewedModel):
    """One study reported by a reference: what was tested, in whom, how, and what it found."""

    key = models.SlugField(
        "key",
        max_length=80,
        unique=True,
        help_text="Stable identifier used by the corpus fixtures, e.g. ref01-rim-trial.",
    )
    reference = models.ForeignKey(
        "references.Reference",
        verbose_name="reference",
        on_delete=models.PROTECT,
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
        "level override",
        choices=EvidenceLevel.choices,
        null=True,
        blank=True,
        help_text="Only when the design's suggested level does not fit; give a reason.",
    )
    level_override_reason = models.TextField("reason for the override", blank=True)
    level = models.PositiveSmallIntegerField(
        "level of evidence",
        choices=EvidenceLevel.choices,
        null=True,
        blank=True,
        editable=False,
        help_text="Oxford CEBM 2011: the override if given, else suggested from the design.",
    )
    verified = models.BooleanField(
        "verified", default=False, help_text="A curator checked every fact against its record."
    )
    trial = models.ForeignKey(
        Trial,
        verbose_name="trial",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="publications",
        help_text="The trial or cohort whose patients this publication reports (counted once).",
    )
    publication_role = models.CharField(
        "publication role", max_length=24, blank=True, choices=PublicationRole.choices
    )
    data_availability = models.CharField(
        "result data seen in",
        max_length=16,
        choices=DataAvailability.choices,
        default=DataAvailability.ABSTRACT,
        help_text="The best record of the results a curator saw.",
    )
    has_result_data = models.BooleanField(
        "has result data",
        default=True,
        help_text="No: listed, but it cannot set a cell's certainty, direction or best level.",
    )
    safety_signal = models.BooleanField(
        "safety signal",
        default=False,
        help_text="The study reports the drug inducing or worsening myositis (or another harm "
        "as its finding): shown as a safety signal, never as efficacy.",
    )

    history = HistoricalRecords(m2m_fields=[therapies, subtypes])
    objects = StudyQuerySet.as_manager()
    shows = ("reference", "therapies", "subtypes", "trial")

    class Meta:
        verbose_name_plural = "studies"
        # Newest first; within a year the review's numbering, then the usual bibliographic
        # order (first author), then one reference's studies together. Every key up to the
        # reference's id is in one index (references: reference_chronology_idx), so a page
        # of a large list reads its first rows from that index instead of sorting a year.
        ordering = [
            "-reference__year",
            "reference__number",
            "reference__first_author",
            "reference_id",
            "key",
        ]
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
            models.Index(
                fields=["status", "modified"], include=["id"], name="study_status_modified_idx"
            ),
            models.Index(
                fields=["status", "design"], include=["id"], name="study_status_design_idx"
            ),
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
    def has_data(self) -> bool:
        """Whether the study can count for certainty, direction and best level."""
        return self.has_result_data and self.data_availability != DataAvailability.TITLE_ONLY

    @property
    def level_reason(self) -> str:
        """Why the study has its level, in one sentence for the reader."""
        if self.level_override is not None:
            return f"Set by a curator: {self.level_override_reason}"
        if self.level is None:
            return "Guidelines and consensus statements are not graded as primary evidence."
        return f"Suggested by the design ({self.get_design_display()})."


class Arm(TimeStampedModel):
    """One arm of a study: a therapy (none for placebo or sham), what it is in the study
    (tested, comparator, background) and the regimen as the record states it."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="arms")
    label = models.CharField("arm", max_length=120, help_text="As the record names it.")
    therapy = models.ForeignKey(
        "therapies.Therapy",
        verbose_name="therapy",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="arms",
        help_text="Empty for placebo or sham.",
    )
    role = models.CharField("role", max_length=16, choices=ArmRole.choices, default=ArmRole.TESTED)
    dose = models.CharField("dose", max_length=200, blank=True)
    route = models.CharField("route", max_length=80, blank=True)
    schedule = models.CharField("schedule", max_length=200, blank=True)
    duration = models.CharField("duration", max_length=120, blank=True)
    n = models.PositiveIntegerField("patients", null=True, blank=True)
    order = models.PositiveSmallIntegerField("order", default=0)

    history = HistoricalRecords()
    part_of = "study"  # the entry it belongs to (core.models.entry_of)
    shows = ("therapy",)  # published study: these must be published too

    class Meta:
        ordering = ["study", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["study", "label"], name="arm_unique_label"),
            models.CheckConstraint(
                condition=Q(therapy__isnull=False) | ~Q(role=ArmRole.TESTED),
                name="arm_tested_needs_therapy",
                violation_error_message="A tested arm needs its therapy.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study}: {self.label}"


class StudySubtypeCount(TimeStampedModel):
    """How many of a study's patients had one subtype, where the record reports the split."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="subtype_counts")
    subtype = models.ForeignKey(DiseaseSubtype, on_delete=models.PROTECT, related_name="+")
    n = models.PositiveIntegerField("patients")

    history = HistoricalRecords()
    part_of = "study"  # the entry it belongs to (core.models.entry_of)
    shows = ("subtype",)  # published study: these must be published too

    class Meta:
        ordering = ["study", "subtype__order"]
        constraints = [
            models.UniqueConstraint(fields=["study", "subtype"], name="subtype_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.study}: {self.subtype.code} {self.n}"


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
    part_of = "study"  # the entry it belongs to (core.models.entry_of)

    class Meta:
        ordering = ["study", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(responders__isnull=True)
                | Q(n__isnull=True)
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


class OutcomeArmResult(TimeStampedModel):
    """An outcome's result in one arm (responders/n or a value), the placebo arm included."""

    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="arm_results")
    arm = models.ForeignKey(Arm, on_delete=models.CASCADE, related_name="results")
    responders = models.PositiveIntegerField("responders", null=True, blank=True)
    n = models.PositiveIntegerField("of n", null=True, blank=True)
    value = models.CharField("value", max_length=200, blank=True)

    history = HistoricalRecords()
    part_of = "outcome"  # the entry it belongs to (core.models.entry_of)

    class Meta:
        ordering = ["outcome", "arm__order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["outcome", "arm"], name="arm_result_unique"),
            models.CheckConstraint(
                condition=Q(responders__isnull=True)
                | Q(n__isnull=True)
                | Q(responders__lte=models.F("n")),
                name="arm_result_responders_within_n",
                violation_error_message="Responders cannot exceed n.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.arm.label}: {self.display_value}"

    @property
    def display_value(self) -> str:
        return Outcome.display_value.fget(self)

    def clean(self):
        super().clean()
        if self.arm_id and self.outcome_id and self.arm.study_id != self.outcome.study_id:
            raise ValidationError("The arm and the outcome belong to different studies.")


class Provenance(TimeStampedModel):
    """Where facts of a study came from, and whether a curator has verified them."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="provenance")
    source = models.CharField("source", max_length=16, choices=ProvenanceSource.choices)
    url = models.URLField("record URL", max_length=500, blank=True, validators=[validate_http_url])
    pmid = models.CharField("PMID of the record", max_length=8, blank=True)
    facts = models.JSONField(
        "facts taken",
        default=list,
        blank=True,
        help_text='Which fields came from this record, e.g. ["sample_size", "outcomes"].',
    )
    note = models.TextField("note", blank=True)
    verified = models.BooleanField("verified by a curator", default=False)
    verified_by = models.CharField("verified by", max_length=150, blank=True)
    verified_at = models.DateTimeField("verified at", null=True, blank=True)

    history = HistoricalRecords()
    part_of = "study"  # the entry it belongs to (core.models.entry_of)

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


class CertaintyOverride(ReviewedModel):
    """A curator's certainty for a therapy x subtype cell (optionally one outcome measure),
    replacing the suggestion; it needs a reason, which readers see."""

    therapy = models.ForeignKey(
        "therapies.Therapy", on_delete=models.CASCADE, related_name="certainty_overrides"
    )
    subtype = models.ForeignKey(DiseaseSubtype, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(
        "outcome measure",
        max_length=32,
        blank=True,
        choices=OutcomeMeasure.choices,
        help_text="Empty: the whole cell.",
    )
    certainty = models.CharField("certainty", max_length=16, choices=Certainty.choices)
    reason = models.TextField("reason", help_text="Why the suggestion does not fit.")

    history = HistoricalRecords()
    objects = ReviewedQuerySet.as_manager()
    shows = ("therapy", "subtype")

    class Meta:
        ordering = ["therapy", "subtype", "measure"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapy", "subtype", "measure"], name="certainty_override_unique"
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="certainty_override_needs_reason",
                violation_error_message="A certainty override needs a reason.",
            ),
        ]

    def __str__(self) -> str:
        what = f" ({self.get_measure_display()})" if self.measure else ""
        return f"{self.therapy} x {self.subtype}{what}: {self.get_certainty_display()}"

    def clean(self):
        super().clean()
        if not (self.reason or "").strip():
            raise ValidationError({"reason": "Give the reason for overriding the suggestion."})
