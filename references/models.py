"""The bibliography: the review's numbered references and any added later."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from simple_history.models import HistoricalRecords

from core.models import ReviewedModel, ReviewedQuerySet
from core.validators import validate_http_url, validate_http_url_list
from references.choices import ReferenceKind, ReferenceRole
from references.citation import format_vancouver
from references.validators import (
    normalise_doi,
    normalise_title,
    validate_bibtex_key,
    validate_doi,
    validate_pmcid,
    validate_pmid,
)


class ReferenceQuerySet(ReviewedQuerySet):
    def with_authors(self):
        return self.prefetch_related("authors")

    def for_list(self):
        return self.with_authors().order_by(
            models.F("number").asc(nulls_last=True), "-year", "title"
        )


class Reference(ReviewedModel):
    """A published work: a numbered reference of the source review or one added by curators."""

    number = models.PositiveSmallIntegerField(
        "number in the review",
        null=True,
        blank=True,
        help_text="Citation number in the source review (1-60); empty for references added later.",
    )
    kind = models.CharField(
        "kind of publication",
        max_length=32,
        choices=ReferenceKind.choices,
        default=ReferenceKind.JOURNAL_ARTICLE,
    )
    role = models.CharField(
        "role in the evidence base",
        max_length=32,
        choices=ReferenceRole.choices,
        blank=True,
        help_text="Treatment and guideline references report studies; the others support them.",
    )
    authors_truncated = models.BooleanField(
        "author list truncated",
        default=False,
        help_text="The source lists only the first authors followed by 'et al'.",
    )
    year = models.PositiveSmallIntegerField("year", null=True, blank=True)
    title = models.TextField("title")
    journal = models.CharField("journal", max_length=255, blank=True)
    volume = models.CharField("volume", max_length=32, blank=True)
    issue = models.CharField("issue", max_length=32, blank=True)
    pages = models.CharField("pages", max_length=32, blank=True)
    publisher = models.CharField("publisher", max_length=255, blank=True)
    doi = models.CharField(
        "DOI",
        max_length=255,
        blank=True,
        validators=[validate_doi],
        help_text="Without the https://doi.org/ prefix.",
    )
    pmid = models.CharField("PMID", max_length=8, blank=True, validators=[validate_pmid])
    pmcid = models.CharField("PMCID", max_length=16, blank=True, validators=[validate_pmcid])
    url = models.URLField("URL", max_length=500, blank=True, validators=[validate_http_url])
    bibtex_key = models.CharField(
        "BibTeX key", max_length=100, unique=True, validators=[validate_bibtex_key]
    )
    identifier_sources = models.JSONField(
        "identifier sources",
        default=list,
        blank=True,
        validators=[validate_http_url_list],
        help_text="Public records (http(s) URLs) in which the PMID/DOI/PMCID were seen.",
    )
    notes = models.TextField(
        "notes",
        blank=True,
        help_text="Known problems in the source's citation (kept as printed) and curators' "
        "remarks.",
    )
    title_normalised = models.CharField(max_length=500, editable=False, db_index=True)
    first_author = models.CharField("first author", max_length=255, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["title_normalised", "first_author"])
    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = [models.F("number").asc(nulls_last=True), "-year", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=Q(number__isnull=False),
                name="reference_unique_number",
                violation_error_message="Another reference already has this number.",
            ),
            models.UniqueConstraint(
                Lower("doi"),
                condition=~Q(doi=""),
                name="reference_unique_doi",
                violation_error_message="Another reference already has this DOI.",
            ),
            models.UniqueConstraint(
                fields=["pmid"],
                condition=~Q(pmid=""),
                name="reference_unique_pmid",
                violation_error_message="Another reference already has this PMID.",
            ),
            models.UniqueConstraint(
                fields=["pmcid"],
                condition=~Q(pmcid=""),
                name="reference_unique_pmcid",
                violation_error_message="Another reference already has this PMCID.",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__gte=1),
                name="reference_number_positive",
            ),
        ]
        indexes = [
            models.Index(fields=["year"]),
            models.Index(fields=["first_author"]),
            # The default order (numbered references first, then newest): lists and exports
            # read it from the index instead of sorting the bibliography. PostgreSQL puts NULLs
            # last in ascending order, as the ordering asks (SQLite refuses NULLS LAST here).
            models.Index(fields=["number", "-year"], name="reference_list_order_idx"),
            # The studies' order (evidence.Study.Meta.ordering), up to the reference's id.
            models.Index(
                fields=["-year", "number", "first_author", "id"], name="reference_chronology_idx"
            ),
            models.Index(
                fields=["status", "modified"], include=["id"], name="reference_status_modified_idx"
            ),
        ]

    def __str__(self) -> str:
        prefix = f"[{self.number}] " if self.number else ""
        who = self.first_author or "Anon."
        return f"{prefix}{who} ({self.year or 'n.d.'}) {_shortened(self.title)}"

    def get_absolute_url(self) -> str:
        return reverse("references:reference_detail", args=[self.ident])

    @property
    def ident(self) -> str:
        """The reference's part of its URLs: the review's number, or ``id-<pk>`` without one
        (a bare pk would read as a number: the unnumbered source review, pk 61, is not ref. 61)."""
        return str(self.number) if self.number else f"id-{self.pk}"

    @property
    def short_label(self) -> str:
        """How a link to it reads in running text: "ref. 12", "the source review"."""
        if self.number:
            return f"ref. {self.number}"
        if self.role == ReferenceRole.SOURCE_REVIEW:
            return "the source review"
        return f"{self.first_author or 'Anon.'} {self.year or 'n.d.'}"

    def save(self, *args, **kwargs):
        self.doi = normalise_doi(self.doi)
        self.title_normalised = normalise_title(self.title)[:500]
        super().save(*args, **kwargs)

    def refresh_first_author(self) -> None:
        """Keep the denormalised first-author surname (used for sorting) in step."""
        first = self.authors.order_by("position").first()
        name = first.family if first else ""
        if name != self.first_author:
            self.first_author = name
            Reference.objects.filter(pk=self.pk).update(first_author=name)

    @property
    def ordered_authors(self) -> list["Author"]:
        # Uses the prefetch cache when the queryset asked for it.
        return sorted(self.authors.all(), key=lambda a: a.position)

    @property
    def citation(self) -> str:
        """The reference formatted in Vancouver style, for display."""
        return format_vancouver(self)

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/" if self.pmid else ""

    @property
    def pmc_url(self) -> str:
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{self.pmcid}/" if self.pmcid else ""


class Author(models.Model):
    """One author of a reference, in order; a corporate author has only a name."""

    reference = models.ForeignKey(
        Reference, verbose_name="reference", on_delete=models.CASCADE, related_name="authors"
    )
    position = models.PositiveSmallIntegerField("position", help_text="1 for the first author.")
    family = models.CharField(
        "family name or corporate name",
        max_length=255,
        help_text="Surname, or the full name of a group such as 'Muscle Study Group'.",
    )
    given = models.CharField("given names or initials", max_length=255, blank=True)
    is_corporate = models.BooleanField("corporate author", default=False)

    history = HistoricalRecords()
    part_of = "reference"  # the entry it belongs to (core.models.entry_of)

    class Meta:
        ordering = ["reference", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference", "position"], name="author_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """'Oddis CV' for a person (Vancouver order), the name itself for a group."""
        if self.is_corporate or not self.given:
            return self.family
        return f"{self.family} {self.given.replace('.', '').replace(' ', '')}"


def _shortened(title: str, width: int = 80) -> str:
    """A long title cut at a word boundary, with an ellipsis saying so (admin lists, history,
    autocompletes and refusals name references this way)."""
    if len(title) <= width:
        return title
    cut = title[: width - 1]
    if " " in cut and not title[width - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–") + "…"
