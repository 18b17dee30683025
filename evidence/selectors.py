"""Reads that are more than one queryset call: the drug x subtype evidence matrix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Min, QuerySet, Sum
from django.urls import reverse

from core.cache import memoize, queryset_key
from evidence.choices import ResultDirection, StudyDesign
from evidence.models import DiseaseSubtype, Study
from references.models import Reference
from therapies.models import Therapy

# When results tie, the more cautious reading is shown: harm, then no benefit, then mixed.
RESULT_PRECEDENCE = [
    ResultDirection.HARM,
    ResultDirection.NO_SIGNIFICANT_BENEFIT,
    ResultDirection.MIXED,
    ResultDirection.BENEFIT,
    ResultDirection.NOT_APPLICABLE,
]


@dataclass
class MatrixCell:
    therapy: Therapy
    subtype: DiseaseSubtype
    studies: int = 0
    patients: int = 0
    studies_without_size: int = 0
    best_level: int | None = None
    results: Counter = field(default_factory=Counter)

    @property
    def dominant_result(self) -> str | None:
        """The most frequent result; a tie goes to the more cautious one."""
        if not self.results:
            return None
        top = max(self.results.values())
        tied = [r for r in RESULT_PRECEDENCE if self.results.get(r) == top]
        return tied[0] if tied else None

    @property
    def dominant_result_label(self) -> str:
        code = self.dominant_result
        return ResultDirection(code).label if code else ""


@dataclass
class Matrix:
    therapies: list[Therapy]
    subtypes: list[DiseaseSubtype]
    cells: dict[tuple[int, int], MatrixCell]

    def rows(self):
        """(therapy, [cell or None per subtype]) for templates."""
        for therapy in self.therapies:
            yield therapy, [self.cells.get((therapy.pk, s.pk)) for s in self.subtypes]


def evidence_matrix(
    studies: QuerySet[Study], *, therapies: QuerySet[Therapy] | None = None,
    all_subtypes: bool = False,
) -> Matrix:
    """Aggregate studies per (therapy, subtype): count, patients, best level, results.

    Three queries (one aggregate and the two axes), whatever the size; computed once per
    content generation for each distinct pair of querysets (``core.cache.memoize``).
    """
    therapy_qs = therapies if therapies is not None else Therapy.objects.all()
    key = queryset_key(studies, therapy_qs)
    return memoize("matrix", key and f"{key}:{all_subtypes}",
                   lambda: _evidence_matrix(studies, therapy_qs, all_subtypes))


def _evidence_matrix(studies: QuerySet[Study], therapy_qs: QuerySet[Therapy],
                     all_subtypes: bool) -> Matrix:
    # One pass over the (study, therapy, subtype) triples, grouped by cell and result. A study
    # has one result and each of its therapies and subtypes once, so it is one row of exactly
    # one group per cell: plain COUNT and SUM are exact (no COUNT(DISTINCT), whose sorts made
    # three such queries take 0.8 s at 100k studies).
    groups = (studies.order_by().values("therapies", "subtypes", "result")
              .annotate(n=Count("id"), sized=Count("sample_size"), patients=Sum("sample_size"),
                        best=Min("level")))
    raw: dict[tuple[int, int], MatrixCell] = {}
    for row in groups:
        key = (row["therapies"], row["subtypes"])
        if not key[0] or not key[1]:
            continue
        cell = raw.setdefault(key, MatrixCell(therapy=None, subtype=None))
        cell.studies += row["n"]
        cell.patients += row["patients"] or 0
        cell.studies_without_size += row["n"] - row["sized"]
        if row["best"] is not None and (cell.best_level is None or row["best"] < cell.best_level):
            cell.best_level = row["best"]
        cell.results[row["result"]] += row["n"]
    therapy_ids = {t for t, _ in raw}
    subtype_ids = {s for _, s in raw}
    therapy_list = list(therapy_qs.filter(pk__in=therapy_ids).select_related("drug_class")
                        .order_by("drug_class__order", "name"))
    subtype_qs = DiseaseSubtype.objects.published() if all_subtypes \
        else DiseaseSubtype.objects.filter(pk__in=subtype_ids)
    subtype_list = list(subtype_qs.order_by("order", "name"))
    therapy_by_id = {t.pk: t for t in therapy_list}
    subtype_by_id = {s.pk: s for s in subtype_list}
    cells: dict[tuple[int, int], MatrixCell] = {}
    for key, cell in raw.items():
        cell.therapy, cell.subtype = therapy_by_id.get(key[0]), subtype_by_id.get(key[1])
        if cell.therapy is not None and cell.subtype is not None:
            cells[key] = cell
    return Matrix(therapies=therapy_list, subtypes=subtype_list, cells=cells)


@dataclass(frozen=True)
class SubtypeLabel:
    name: str
    short: str  # the abbreviation, else the code


@dataclass(frozen=True)
class StudyRow:
    """One line of a study table (templates/includes/study_table.html)."""

    pk: int
    label: str
    design: str
    sample_size: int | None
    result: str
    level: int | None
    reference_id: int
    first_author: str
    reference_number: int | None
    year: int | None
    therapies: tuple[str, ...]
    subtypes: tuple[SubtypeLabel, ...]

    def get_absolute_url(self) -> str:
        return reverse("evidence:study_detail", args=[self.pk])

    def get_design_display(self) -> str:
        return StudyDesign(self.design).label


ROW_FIELDS = ("pk", "label", "design", "sample_size", "result", "level", "reference_id",
              "reference__first_author", "reference__number", "reference__year")


def study_rows(studies: QuerySet[Study]) -> list[StudyRow]:
    """The rows of a table of studies (a page of a list), in the queryset's order: three
    queries of plain values, with no model instances. Building full studies with their
    reference, therapies and subtypes cost about three times as much for a 50-row page."""
    values = list(studies.values_list(*ROW_FIELDS))
    ids = [row[0] for row in values]
    therapies: dict[int, list[str]] = {pk: [] for pk in ids}
    for study_id, name in (Study.therapies.through.objects.filter(study_id__in=ids)
                           .order_by("therapy__name").values_list("study_id", "therapy__name")):
        therapies[study_id].append(name)
    subtypes: dict[int, list[SubtypeLabel]] = {pk: [] for pk in ids}
    for study_id, name, abbreviation, code in (
            Study.subtypes.through.objects.filter(study_id__in=ids)
            .order_by("diseasesubtype__order", "diseasesubtype__name")
            .values_list("study_id", "diseasesubtype__name", "diseasesubtype__abbreviation",
                         "diseasesubtype__code")):
        subtypes[study_id].append(SubtypeLabel(name=name, short=abbreviation or code))
    return [StudyRow(*row, therapies=tuple(therapies[row[0]]),
                     subtypes=tuple(subtypes[row[0]])) for row in values]


@dataclass
class CorpusStatus:
    version: str
    last_updated: object
    references: int
    studies: int
    therapies: int


@lru_cache(maxsize=1)
def data_version() -> str:
    """The curated corpus's version (fixtures/VERSION), shown on the home page."""
    path = Path(settings.MYOEVIDENCE_FIXTURES) / "VERSION"
    try:
        return path.read_text(encoding="utf-8").strip() or "unversioned"
    except OSError:
        return "unversioned"


def corpus_status(user=None) -> CorpusStatus:
    """Counts and the latest change of the visible corpus: one aggregate query per model,
    once per content generation."""
    querysets = {"studies": Study.objects.restrict(user),
                 "references": Reference.objects.restrict(user),
                 "therapies": Therapy.objects.restrict(user)}
    totals = memoize("corpus-status", queryset_key(*querysets.values()), lambda: {
        name: qs.aggregate(n=Count("pk"), last=Max("modified")) for name, qs in querysets.items()
    })
    return CorpusStatus(
        version=data_version(),
        last_updated=max((t["last"] for t in totals.values() if t["last"]), default=None),
        references=totals["references"]["n"],
        studies=totals["studies"]["n"],
        therapies=totals["therapies"]["n"],
    )


def design_counts(studies: QuerySet[Study]) -> dict[str, int]:
    counts = studies.order_by().values_list("design").annotate(n=Count("id"))
    return memoize("design-counts", queryset_key(counts), lambda: dict(counts))


def subtype_ranking(studies: QuerySet[Study], subtype: DiseaseSubtype) -> list[MatrixCell]:
    """Therapies with evidence for one subtype, strongest first (best level, then count)."""
    matrix = evidence_matrix(studies.filter(subtypes=subtype))
    cells = [c for c in matrix.cells.values() if c.subtype.pk == subtype.pk]
    return sorted(cells, key=lambda c: (c.best_level or 9, -c.studies, -c.patients,
                                        c.therapy.name))
