"""Drugs and other treatments, their classes, and the review's position on each."""

from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import ReviewedModel, ReviewedQuerySet, TimeStampedModel
from references.models import Reference
from therapies.choices import ReviewPosition, Route


def split_terms(value: str) -> list[str]:
    """Synonym and brand-name fields hold comma-separated terms."""
    return [term.strip() for term in (value or "").split(",") if term.strip()]


class DrugClass(ReviewedModel):
    """A drug class defined by its mechanism (e.g. anti-CD20, TNF inhibitor, immune globulin).

    Under the editorial workflow: its name and mechanism are public text.
    """

    name = models.CharField("name", max_length=120, unique=True)
    slug = models.SlugField("slug", max_length=120, unique=True)
    mechanism = models.TextField("mechanism", blank=True)
    order = models.PositiveSmallIntegerField(
        "display order", default=100, help_text="Lower numbers are listed first."
    )

    history = HistoricalRecords()
    objects = ReviewedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "drug classes"
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class TherapyQuerySet(ReviewedQuerySet):
    def for_list(self):
        return self.select_related("drug_class").order_by("drug_class__order", "name")


class Therapy(ReviewedModel):
    """A treatment discussed by the review: a drug, a drug group or a procedure."""

    name = models.CharField("name", max_length=120, unique=True)
    slug = models.SlugField("slug", max_length=120, unique=True)
    drug_class = models.ForeignKey(
        DrugClass, verbose_name="drug class", on_delete=models.PROTECT, related_name="therapies"
    )
    mechanism = models.TextField("mechanism of action", blank=True)
    synonyms = models.CharField(
        "synonyms",
        max_length=500,
        blank=True,
        help_text="Comma-separated other names and abbreviations (searchable).",
    )
    brand_names = models.CharField(
        "brand names", max_length=500, blank=True, help_text="Comma-separated (searchable)."
    )
    route = models.CharField("route", max_length=16, choices=Route.choices, blank=True)
    position = models.CharField("review's position", max_length=32, choices=ReviewPosition.choices)
    secondary_position = models.CharField(
        "further position",
        max_length=32,
        choices=ReviewPosition.choices,
        blank=True,
        help_text="A second stance the review takes, e.g. 'may induce myositis' for anti-TNF.",
    )
    review_summary = models.TextField(
        "summary of the review's view", blank=True, help_text="In our own words."
    )
    rationale_references = models.ManyToManyField(
        "references.Reference",
        through="TherapyRationale",
        related_name="rationale_for",
        blank=True,
        verbose_name="mechanistic rationale",
    )

    history = HistoricalRecords()
    objects = TherapyQuerySet.as_manager()
    shows = ("drug_class",)

    class Meta:
        verbose_name_plural = "therapies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("therapies:therapy_detail", args=[self.slug])

    @property
    def synonym_list(self) -> list[str]:
        return split_terms(self.synonyms)

    @property
    def brand_name_list(self) -> list[str]:
        return split_terms(self.brand_names)


class TherapyRationaleQuerySet(models.QuerySet):
    def restrict(self, user):
        """A rationale link is shown only when both its therapy and its reference are."""
        return self.filter(
            therapy__in=Therapy.objects.restrict(user),
            reference__in=Reference.objects.restrict(user),
        )


class TherapyRationale(TimeStampedModel):
    """A laboratory or mechanistic reference that makes a therapy biologically plausible."""

    therapy = models.ForeignKey(Therapy, on_delete=models.CASCADE, related_name="rationales")
    reference = models.ForeignKey(
        "references.Reference", on_delete=models.PROTECT, related_name="rationales"
    )
    pathway = models.CharField("pathway or target", max_length=200)
    note = models.TextField("note", blank=True, help_text="In our own words.")

    history = HistoricalRecords()
    objects = TherapyRationaleQuerySet.as_manager()
    part_of = "therapy"

    class Meta:
        ordering = ["therapy", "reference__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["therapy", "reference"], name="rationale_unique_therapy_reference"
            )
        ]

    def __str__(self) -> str:
        return f"{self.therapy}: {self.pathway}"
