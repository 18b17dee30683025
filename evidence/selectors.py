"""Reads that are more than one queryset call: the drug x subtype evidence matrix."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.urls import reverse

from core.caching.data import per_generation
from evidence.choices import ArmRole, DataAvailability, Direction, ResultDirection, StudyDesign
from evidence.models import (
    Arm,
    CertaintyOverride,
    DiseaseSubtype,
    Outcome,
    Study,
    StudySubtypeCount,
)
from evidence.synthesis import (
    RANK,
    SAFETY_MEASURES,
    Override,
    StudyFacts,
    Synthesis,
    certainty_rank,
    synthesise,
)
from references.choices import ReferenceRole
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
    """One therapy x subtype cell: its synthesis (evidence.synthesis) and, for the v1 API,
    the superseded per-study result counts."""

    therapy: Therapy
    subtype: DiseaseSubtype
    synthesis: Synthesis = field(default_factory=Synthesis)

    @property
    def studies(self) -> int:
        return self.synthesis.studies

    @property
    def patients(self) -> int | None:
        """Deduplicated: each trial's patients once (None when no study gives a number)."""
        return self.synthesis.patients

    @property
    def studies_without_size(self) -> int:
        """Trials whose publications give no number of patients."""
        return self.synthesis.trials_without_size

    @property
    def best_level(self) -> int | None:
        return self.synthesis.best_level

    @property
    def results(self) -> Counter:
        return self.synthesis.results

    @property
    def certainty(self) -> str:
        return self.synthesis.certainty

    @property
    def direction(self) -> str:
        return self.synthesis.direction

    @property
    def trials(self) -> int:
        return self.synthesis.trials

    @property
    def safety_signals(self) -> int:
        return self.synthesis.safety_signals

    @property
    def certainty_label(self) -> str:
        from evidence.choices import Certainty

        return Certainty(self.certainty).label.split(" (")[0]

    @property
    def direction_label(self) -> str:
        return Direction(self.direction).label

    @property
    def dominant_result(self) -> str | None:
        """Superseded by ``direction``: the most frequent study result, a tie going to the
        more cautious one. Kept for the v1 API."""
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


def study_facts(studies: QuerySet[Study]) -> list[StudyFacts]:
    """What the synthesis engine needs of each study: six queries of plain values, whatever
    the number of studies (no model instances)."""
    ids = studies.order_by().values("pk")
    rows = list(
        studies.order_by().values_list(
            "pk",
            "label",
            "design",
            "blinding",
            "refractory",
            "result",
            "level",
            "sample_size",
            "reference__year",
            "trial__key",
            "has_result_data",
            "data_availability",
            "safety_signal",
        )
    )
    # In a fixed order (the database's own is arbitrary, and differed between SQLite and
    # PostgreSQL): the syntheses list their studies in this order, and so do the pages.
    rows.sort(key=lambda row: row[0])
    tested: dict[int, set[int]] = {}
    background: dict[int, set[int]] = {}
    with_arms: set[int] = set()
    for study_id, therapy_id, role in Arm.objects.filter(study_id__in=ids).values_list(
        "study_id", "therapy_id", "role"
    ):
        with_arms.add(study_id)
        if therapy_id is None:
            continue
        target = tested if role == ArmRole.TESTED else background
        target.setdefault(study_id, set()).add(therapy_id)
    # Studies entered before arms existed: their therapies count as tested.
    for study_id, therapy_id in Study.therapies.through.objects.filter(
        study_id__in=ids
    ).values_list("study_id", "therapy_id"):
        if study_id not in with_arms:
            tested.setdefault(study_id, set()).add(therapy_id)
    subtypes: dict[int, set[int]] = {}
    for study_id, subtype_id in Study.subtypes.through.objects.filter(study_id__in=ids).values_list(
        "study_id", "diseasesubtype_id"
    ):
        subtypes.setdefault(study_id, set()).add(subtype_id)
    counts: dict[int, dict[int, int]] = {}
    for study_id, subtype_id, n in StudySubtypeCount.objects.filter(study_id__in=ids).values_list(
        "study_id", "subtype_id", "n"
    ):
        counts.setdefault(study_id, {})[subtype_id] = n
    measures: dict[int, set[str]] = {}
    for study_id, measure in (
        Outcome.objects.filter(study_id__in=ids)
        .order_by()
        .values_list("study_id", "measure")
        .distinct()
    ):
        measures.setdefault(study_id, set()).add(measure)
    return [
        StudyFacts(
            pk=pk,
            label=label,
            design=design,
            blinding=blinding,
            refractory=refractory,
            result=result,
            level=level,
            sample_size=size,
            year=year,
            trial=trial or "",
            has_data=has_data and availability != DataAvailability.TITLE_ONLY,
            safety_signal=safety,
            subtypes=frozenset(subtypes.get(pk, ())),
            subtype_counts=counts.get(pk, {}),
            tested=frozenset(tested.get(pk, ())),
            background=frozenset(background.get(pk, ())),
            measures=frozenset(measures.get(pk, ())),
        )
        for (
            pk,
            label,
            design,
            blinding,
            refractory,
            result,
            level,
            size,
            year,
            trial,
            has_data,
            availability,
            safety,
        ) in rows
    ]


def certainty_overrides() -> dict[tuple[int, int, str], Override]:
    """Published curators' overrides by (therapy id, subtype id, measure or '')."""
    return {
        (t, s, m): Override(certainty=c, reason=r)
        for t, s, m, c, r in CertaintyOverride.objects.published().values_list(
            "therapy_id", "subtype_id", "measure", "certainty", "reason"
        )
    }


@per_generation
def evidence_matrix(
    studies: QuerySet[Study],
    *,
    therapies: QuerySet[Therapy] | None = None,
    all_subtypes: bool = False,
) -> Matrix:
    """The synthesis per (therapy, subtype) of the studies that test it (evidence.synthesis).

    A fixed number of queries (the study facts, the overrides and the two axes), whatever the
    size; computed once per content generation for each distinct set of arguments
    (``core.caching.data.per_generation``).
    """
    therapy_qs = therapies if therapies is not None else Therapy.objects.all()
    return _evidence_matrix(studies, therapy_qs, all_subtypes)


def _evidence_matrix(
    studies: QuerySet[Study], therapy_qs: QuerySet[Therapy], all_subtypes: bool
) -> Matrix:
    facts = study_facts(studies)
    overrides = certainty_overrides()
    by_cell: dict[tuple[int, int], list[StudyFacts]] = {}
    for study in facts:
        for therapy_id in study.tested:
            for subtype_id in study.subtypes:
                by_cell.setdefault((therapy_id, subtype_id), []).append(study)
    raw = {
        key: MatrixCell(
            therapy=None,
            subtype=None,
            synthesis=synthesise(
                body, therapy=key[0], subtype=key[1], override=overrides.get((*key, ""))
            ),
        )
        for key, body in by_cell.items()
    }
    therapy_ids = {t for t, _ in raw}
    subtype_ids = {s for _, s in raw}
    therapy_list = list(
        therapy_qs.filter(pk__in=therapy_ids)
        .select_related("drug_class")
        .order_by("drug_class__order", "name")
    )
    subtype_qs = (
        DiseaseSubtype.objects.published()
        if all_subtypes
        else DiseaseSubtype.objects.filter(pk__in=subtype_ids)
    )
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


ROW_FIELDS = (
    "pk",
    "label",
    "design",
    "sample_size",
    "result",
    "level",
    "reference_id",
    "reference__first_author",
    "reference__number",
    "reference__year",
)


def study_rows(studies: QuerySet[Study]) -> list[StudyRow]:
    """The rows of a table of studies (a page of a list), in the queryset's order: three
    queries of plain values, with no model instances. Building full studies with their
    reference, therapies and subtypes cost about three times as much for a 50-row page."""
    values = list(studies.values_list(*ROW_FIELDS))
    ids = [row[0] for row in values]
    therapies: dict[int, list[str]] = {pk: [] for pk in ids}
    for study_id, name in (
        Study.therapies.through.objects.filter(study_id__in=ids)
        .order_by("therapy__name")
        .values_list("study_id", "therapy__name")
    ):
        therapies[study_id].append(name)
    subtypes: dict[int, list[SubtypeLabel]] = {pk: [] for pk in ids}
    for study_id, name, abbreviation, code in (
        Study.subtypes.through.objects.filter(study_id__in=ids)
        .order_by("diseasesubtype__order", "diseasesubtype__name")
        .values_list(
            "study_id",
            "diseasesubtype__name",
            "diseasesubtype__abbreviation",
            "diseasesubtype__code",
        )
    ):
        subtypes[study_id].append(SubtypeLabel(name=name, short=abbreviation or code))
    return [
        StudyRow(*row, therapies=tuple(therapies[row[0]]), subtypes=tuple(subtypes[row[0]]))
        for row in values
    ]


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
    totals = corpus_totals(user)
    return CorpusStatus(
        version=data_version(),
        last_updated=max((t["last"] for t in totals.values() if t["last"]), default=None),
        references=totals["references"]["n"],
        studies=totals["studies"]["n"],
        therapies=totals["therapies"]["n"],
    )


@per_generation
def corpus_totals(user) -> dict[str, dict]:
    """The number of visible studies, references and therapies and their latest ``modified``.

    Keyed by the user (what it may see) rather than by the three querysets: building a key
    from a queryset compiles its SQL, which cost more than the cached value saved."""
    querysets = {
        "studies": Study.objects.restrict(user),
        "references": Reference.objects.restrict(user),
        "therapies": Therapy.objects.restrict(user),
    }
    return {
        name: qs.aggregate(n=Count("pk"), last=Max("modified")) for name, qs in querysets.items()
    }


@per_generation
def therapy_for_page(slug: str, user) -> Therapy | None:
    """The therapy a page names, with its drug class, if ``user`` may see it (else None)."""
    return Therapy.objects.restrict(user).select_related("drug_class").filter(slug=slug).first()


@per_generation
def design_counts(studies: QuerySet[Study]) -> dict[str, int]:
    return dict(studies.order_by().values_list("design").annotate(n=Count("id")))


def subtype_ranking(studies: QuerySet[Study], subtype: DiseaseSubtype) -> list[MatrixCell]:
    """Therapies tested in one subtype, by certainty of benefit: first those whose evidence
    shows benefit (high certainty first), then the rest by certainty; then trials, patients."""
    matrix = evidence_matrix(studies.filter(subtypes=subtype))
    cells = [c for c in matrix.cells.values() if c.subtype.pk == subtype.pk]
    return sorted(
        cells,
        key=lambda c: (
            -certainty_rank(c.synthesis),
            -RANK[c.certainty],
            -c.trials,
            -(c.patients or 0),
            c.therapy.name,
        ),
    )


@dataclass(frozen=True)
class EvidenceCutoff:
    """Where the evidence stops: the newest publication year among the studies, and the
    source review's year."""

    newest_year: int | None
    review_year: int | None

    @property
    def iso(self) -> str | None:
        """ISO 8601 at the precision the corpus has (publication years): e.g. "2016"."""
        return f"{self.newest_year:04d}" if self.newest_year else None

    @property
    def sentence(self) -> str:
        if not self.newest_year:
            return "No published evidence yet."
        review = f" The source review is from {self.review_year}." if self.review_year else ""
        return (
            f"Evidence up to {self.newest_year}; trials published later are not included.{review}"
        )


def evidence_cutoff(user=None, studies: QuerySet[Study] | None = None) -> EvidenceCutoff:
    """The newest publication year among ``studies`` (by default every study ``user`` may
    see: the evidence the corpus holds) and the source review's year, each memoized per
    content generation.

    The studies' own references, not every reference: a reference that reports no study (a
    classification paper, the review's background) or whose study is a draft is not evidence
    the synthesis holds, and moved the public cut-off."""
    if studies is None:
        studies = Study.objects.restrict(user)
    newest, review = _cutoff_years(studies, user)
    return EvidenceCutoff(newest_year=newest, review_year=review)


@per_generation
def _cutoff_years(studies: QuerySet[Study], user) -> tuple[int | None, int | None]:
    references = Reference.objects.restrict(user)  # keyed by the user: see corpus_totals
    source = Q(role=ReferenceRole.SOURCE_REVIEW)
    # The newest reference that reports one of the studies: read down the references' year
    # index until one has a study (a Max over every reference probed each of them).
    newest = (
        references.filter(Exists(studies.order_by().filter(reference=OuterRef("pk"))))
        .exclude(source)
        .filter(year__isnull=False)
        .order_by("-year")
        .values("pk")[:1]
    )
    years = references.filter(source | Q(pk__in=newest)).order_by().values_list("role", "year")
    review = [year for role, year in years if role == ReferenceRole.SOURCE_REVIEW]
    others = [year for role, year in years if role != ReferenceRole.SOURCE_REVIEW]
    return max(others, default=None), max((y for y in review if y), default=None)


# --- Summary of findings: one therapy in one subtype (issue 13). ---------------------------


# A summary page lists at most this many rows per table: the synthesis counts every study,
# the tables show the first rows and link to the study list for the rest. On the real corpus
# no table reaches it (the largest cell has 4 studies); with thousands of studies in one cell
# a page listing them all took seconds to build and megabytes to send (bench/RESULTS.md,
# issue 16). At 50 rows the page was still 257 KB at +100k, 714 of its rows the outcomes'
# tables (14 measures): more than a summary is read for, and heavy on a phone. At 20 it is
# read at a glance; the study list, linked from each table, has the rest.
SUMMARY_ROWS = 20


@dataclass
class OutcomeFinding:
    """One measured outcome of a summary of findings: its synthesis and each study's rows
    (the first ``shown`` of ``rows_total`` when the summary was asked for a page)."""

    measure: str
    label: str
    synthesis: Synthesis
    rows: list[dict]
    rows_total: int = 0

    @property
    def safety(self) -> bool:
        """An outcome that measures harm: listed, not rated as efficacy (evidence.synthesis)."""
        return self.measure in SAFETY_MEASURES

    @property
    def truncated(self) -> bool:
        return len(self.rows) < self.rows_total


@dataclass
class SummaryOfFindings:
    """A summary of findings. ``studies``, ``background`` and each outcome's rows hold every
    study (the API) or the first rows of each (a page); the totals and the synthesis count
    every study either way."""

    therapy: Therapy
    subtype: DiseaseSubtype
    synthesis: Synthesis
    outcomes: list[OutcomeFinding]
    studies: list[StudyRow]
    without_data: list[int]
    background: list[StudyRow]
    trials: dict[int, str]  # study id -> trial name, for the studies listed
    arms: dict[int, list]  # study id -> its arms, for the studies listed
    rows_by_id: dict[int, StudyRow] = field(default_factory=dict)
    safety_ids: list[int] = field(default_factory=list)
    background_total: int = 0

    @property
    def studies_total(self) -> int:
        return len(self.synthesis.study_ids)

    @property
    def studies_truncated(self) -> bool:
        return len(self.studies) < self.studies_total

    @property
    def background_truncated(self) -> bool:
        return len(self.background) < self.background_total

    @property
    def key_studies(self) -> list[StudyRow]:
        by_id = self.rows_by_id
        return [by_id[pk] for pk in self.synthesis.key_studies if pk in by_id]

    @property
    def safety_studies(self) -> list[StudyRow]:
        return [self.rows_by_id[pk] for pk in self.safety_ids if pk in self.rows_by_id]

    @property
    def safety_total(self) -> int:
        return len(self.synthesis.safety_studies)

    @property
    def safety_truncated(self) -> bool:
        return len(self.safety_ids) < self.safety_total

    @property
    def study_arms(self) -> list[tuple[StudyRow, list, str]]:
        """(study, its arms, the name of its trial or '') for the studies listed."""
        return [
            (row, self.arms.get(row.pk, []), self.trials.get(row.pk, "")) for row in self.studies
        ]


def summary_of_findings(
    studies: QuerySet[Study],
    therapy: Therapy,
    subtype: DiseaseSubtype,
    shown: int | None = None,
) -> SummaryOfFindings:
    """The cell's synthesis, one synthesis per measured outcome, and the studies with their
    arms, outcomes and per-arm results: a fixed number of queries (memoized). With ``shown``,
    each list holds its first ``shown`` rows (a page); without, every row (the API)."""
    return _summary_of_findings(studies.filter(subtypes=subtype), therapy, subtype, shown)


@per_generation
def _summary_of_findings(studies, therapy, subtype, shown=None) -> SummaryOfFindings:
    from evidence.choices import OutcomeMeasure

    def first(items: list) -> list:
        return items if shown is None else items[:shown]

    # Only studies naming the therapy (an arm or a link) can be about it: the database narrows
    # them before the facts are read (the facts then decide tested or background).
    naming = Q(pk__in=Arm.objects.filter(therapy=therapy).values("study_id")) | Q(
        pk__in=Study.therapies.through.objects.filter(therapy=therapy).values("study_id")
    )
    facts = [
        f for f in study_facts(studies.filter(naming)) if therapy.pk in f.tested | f.background
    ]
    overrides = certainty_overrides()
    cell = synthesise(
        facts,
        therapy=therapy.pk,
        subtype=subtype.pk,
        override=overrides.get((therapy.pk, subtype.pk, "")),
    )
    tested_ids = set(cell.study_ids)
    background_ids = [f.pk for f in facts if f.pk not in tested_ids]
    listed_ids = first(list(cell.study_ids))
    safety_set = set(cell.safety_studies)
    safety_ids = first([pk for pk in cell.study_ids if pk in safety_set])
    # Each measure's outcomes in study order. A page reads the measure of every outcome
    # first and then only the rows its tables show; the API reads them all in one go.
    ordered = Outcome.objects.filter(study_id__in=tested_ids).order_by("study_id", "order", "pk")
    totals: Counter[str] = Counter()
    if shown is None:
        chosen = ordered
    else:
        kept: set[int] = set()
        for pk, measure in ordered.values_list("pk", "measure"):
            totals[measure] += 1
            if totals[measure] <= shown:
                kept.add(pk)
        chosen = ordered.filter(pk__in=kept)
    by_measure: dict[str, list[Outcome]] = {}
    for outcome in chosen.prefetch_related("arm_results__arm"):
        by_measure.setdefault(outcome.measure, []).append(outcome)
    needed = (
        set(listed_ids)
        | set(cell.key_studies)
        | set(safety_ids)
        | set(first(background_ids))
        | {outcome.study_id for found in by_measure.values() for outcome in found}
    )
    by_id = {row.pk: row for row in study_rows(Study.objects.filter(pk__in=needed))}
    outcomes = [
        OutcomeFinding(
            measure=measure,
            label=OutcomeMeasure(measure).label,
            synthesis=synthesise(
                facts,
                therapy=therapy.pk,
                subtype=subtype.pk,
                measure=measure,
                override=overrides.get((therapy.pk, subtype.pk, measure)),
            ),
            rows=[
                {
                    "study": by_id[outcome.study_id],
                    "outcome": outcome,
                    "arm_results": list(outcome.arm_results.all()),
                }
                for outcome in found
            ],
            rows_total=totals[measure] or len(found),
        )
        for measure, found in sorted(
            by_measure.items(), key=lambda item: list(OutcomeMeasure.values).index(item[0])
        )
    ]
    arms: dict[int, list] = {}
    for arm in Arm.objects.filter(study_id__in=listed_ids).select_related("therapy"):
        arms.setdefault(arm.study_id, []).append(arm)
    trials = dict(
        Study.objects.filter(pk__in=listed_ids, trial__isnull=False).values_list(
            "pk", "trial__name"
        )
    )
    fact_by_id = {f.pk: f for f in facts}
    return SummaryOfFindings(
        therapy=therapy,
        subtype=subtype,
        synthesis=cell,
        outcomes=outcomes,
        studies=[by_id[pk] for pk in listed_ids if pk in by_id],
        without_data=[pk for pk in cell.study_ids if not fact_by_id[pk].has_data],
        background=[by_id[pk] for pk in first(background_ids) if pk in by_id],
        trials=trials,
        arms=arms,
        rows_by_id=by_id,
        safety_ids=safety_ids,
        background_total=len(background_ids),
    )


@per_generation
def study_facets(studies: QuerySet[Study]) -> dict[str, dict[str, int]]:
    """How many of the studies have each design, result, level, age group, therapy and
    subtype: six aggregates kept together, once per content generation."""

    def facet(field):
        rows = studies.order_by().values_list(field).annotate(n=Count("pk"))
        # A null level (guidelines: not graded) is counted under "none".
        return {("none" if key is None else str(key)): n for key, n in rows}

    return {
        "design": facet("design"),
        "result": facet("result"),
        "level": facet("level"),
        "age_group": facet("age_group"),
        "therapy": facet("therapies__slug"),
        "subtype": facet("subtypes__code"),
    }
