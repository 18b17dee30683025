"""A synthetic corpus for load testing: many studies shaped like the real ones.

Every value is drawn from what the real corpus in the database holds (a bootstrap sample: each
field of each synthetic row copies the field of a randomly chosen real row), so designs,
results, sample sizes, combinations of therapies and subtypes, outcome counts, years and author
counts keep their real proportions. Narrative text (labels, titles, summaries) is written from
templates naming the drawn therapies and subtypes, and author names are invented: no synthetic
study can be mistaken for, or attributed to, a real one.

Synthetic rows are recognisable by their keys (study ``key`` and reference ``bibtex_key`` start
with ``synthetic-``) and removed with ``clear_synthetic``. They are written with bulk inserts in
batches (no history rows, no signals), keeping every model rule: ``Study.level`` is
``effective_level(design, override)``, an override comes with its reason, responders never
exceed n, and ``Reference.title_normalised``/``first_author`` are filled as ``save()`` would.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from django.db.models import QuerySet

from core.caching.generation import content_changed
from core.choices import ReviewStatus
from evidence.choices import StudyDesign
from evidence.levels import effective_level
from evidence.models import DiseaseSubtype, Outcome, Provenance, Statement, Study
from references.models import Author, Reference
from references.validators import normalise_title
from therapies.models import Therapy

PREFIX = "synthetic-"
BATCH = 2000  # rows per INSERT; also the studies written per transaction
Progress = Callable[[int, int], None]

_SYLLABLES = [
    "ka",
    "lo",
    "ven",
    "mar",
    "ti",
    "sa",
    "ren",
    "do",
    "mi",
    "ber",
    "an",
    "tor",
    "el",
    "vi",
    "ros",
    "ha",
    "nu",
    "gel",
    "pa",
    "quin",
]


class SyntheticError(ValueError):
    """The synthetic corpus cannot be generated here; the message says why."""


def is_real(queryset: QuerySet, key_field: str) -> QuerySet:
    return queryset.exclude(**{f"{key_field}__startswith": PREFIX})


def holds_published_real_content() -> bool:
    """True when the database has published content that is not synthetic (a real corpus)."""
    return (
        is_real(Study.objects.published(), "key").exists()
        or is_real(Reference.objects.published(), "bibtex_key").exists()
    )


@dataclass
class Distributions:
    """Observed values of the real corpus, sampled with replacement."""

    designs: list[str]
    by_design: dict[str, list[dict]]
    therapy_sets: list[list[int]]
    subtype_sets: list[list[int]]
    outcome_counts: list[int]
    outcomes: list[dict]
    provenance_counts: list[int]
    provenance_sources: list[str]
    studies_per_reference: list[int]
    references: list[dict]
    author_counts: list[int]
    corporate_rate: float
    therapy_names: dict[int, str] = field(default_factory=dict)
    subtype_names: dict[int, str] = field(default_factory=dict)


STUDY_SAMPLED = (
    "design",
    "phase",
    "blinding",
    "comparator",
    "sample_size",
    "age_group",
    "refractory",
    "primary_endpoint",
    "primary_endpoint_met",
    "result",
    "adverse_events",
    "follow_up",
    "level_override",
    "level_override_reason",
)


def real_distributions() -> Distributions:
    """Read the distributions from the real studies (the published ones when there are)."""
    studies = is_real(Study.objects.published(), "key")
    if not studies.exists():
        studies = is_real(Study.objects.all(), "key")
    if not studies.exists():
        raise SyntheticError(
            "There are no real studies to take the distributions from: load the corpus into "
            "this database first (manage.py load_corpus), then run again with --force."
        )
    studies = list(studies.prefetch_related("therapies", "subtypes", "outcomes", "provenance"))
    references = {s.reference_id for s in studies}
    per_reference = [sum(1 for s in studies if s.reference_id == r) for r in references]
    refs = list(Reference.objects.filter(pk__in=references).prefetch_related("authors"))
    authors = [a for r in refs for a in r.authors.all()]
    by_design = defaultdict(list)
    for study in studies:
        by_design[study.design].append({name: getattr(study, name) for name in STUDY_SAMPLED})
    return Distributions(
        designs=[s.design for s in studies],
        by_design=dict(by_design),
        therapy_sets=[[t.pk for t in s.therapies.all()] for s in studies],
        subtype_sets=[[d.pk for d in s.subtypes.all()] for s in studies],
        outcome_counts=[len(s.outcomes.all()) for s in studies],
        outcomes=[
            {
                "measure": o.measure,
                "timepoint": o.timepoint,
                "n": o.n,
                "is_primary": o.is_primary,
                "has_responders": o.responders is not None,
            }
            for s in studies
            for o in s.outcomes.all()
        ],
        provenance_counts=[len(s.provenance.all()) for s in studies],
        provenance_sources=[p.source for s in studies for p in s.provenance.all()],
        studies_per_reference=per_reference,
        references=[
            {
                "year": r.year,
                "journal": r.journal,
                "kind": r.kind,
                "role": r.role,
                "authors_truncated": r.authors_truncated,
            }
            for r in refs
        ],
        author_counts=[max(len(r.authors.all()), 1) for r in refs],
        corporate_rate=sum(a.is_corporate for a in authors) / max(len(authors), 1),
        therapy_names=dict(Therapy.objects.values_list("pk", "name")),
        subtype_names=dict(DiseaseSubtype.objects.values_list("pk", "name")),
    )


def _next_number(model, key_field: str) -> int:
    """1 + the highest number among earlier synthetic keys (synthetic-00000042)."""
    last = (
        model.objects.filter(**{f"{key_field}__regex": rf"^{PREFIX}[0-9]{{8}}$"})
        .order_by(f"-{key_field}")
        .values_list(key_field, flat=True)
        .first()
    )
    return int(last.removeprefix(PREFIX)) + 1 if last else 1


@dataclass
class GenerateReport:
    studies: int = 0
    references: int = 0
    authors: int = 0
    outcomes: int = 0
    provenance: int = 0
    seconds: float = 0.0

    def add(self, other: GenerateReport) -> None:
        for name in ("studies", "references", "authors", "outcomes", "provenance"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def lines(self) -> list[str]:
        return [
            f"synthetic studies: {self.studies}",
            f"synthetic references: {self.references}",
            f"authors: {self.authors}",
            f"outcomes: {self.outcomes}",
            f"provenance records: {self.provenance}",
            f"took {self.seconds:.1f} s ({self.studies / max(self.seconds, 1e-9):.0f} studies/s)",
        ]


class _Writer:
    """Builds and inserts one batch of studies with everything that hangs off them."""

    def __init__(self, dist: Distributions, rng: random.Random, study_no: int, ref_no: int):
        self.dist, self.rng = dist, rng
        self.study_no, self.ref_no = study_no, ref_no
        self.report = GenerateReport()

    def write(self, count: int) -> None:
        rng, dist = self.rng, self.dist
        groups, placed = [], 0  # studies per reference, drawn until the batch is full
        while placed < count:
            groups.append(min(rng.choice(dist.studies_per_reference), count - placed))
            placed += groups[-1]
        therapy_sets = [rng.choice(dist.therapy_sets) for _ in range(count)]
        subtype_sets = [rng.choice(dist.subtype_sets) for _ in range(count)]
        refs, authors = self._references(groups, therapy_sets, subtype_sets)
        owners = [ref for ref, size in zip(refs, groups, strict=True) for _ in range(size)]
        studies = Study.objects.bulk_create(
            [
                self._study(ref, t, s)
                for ref, t, s in zip(owners, therapy_sets, subtype_sets, strict=True)
            ],
            batch_size=BATCH,
        )
        therapy_link, subtype_link = Study.therapies.through, Study.subtypes.through
        therapy_link.objects.bulk_create(
            [
                therapy_link(study_id=st.pk, therapy_id=t)
                for st, ids in zip(studies, therapy_sets, strict=True)
                for t in ids
            ],
            batch_size=BATCH,
        )
        subtype_link.objects.bulk_create(
            [
                subtype_link(study_id=st.pk, diseasesubtype_id=d)
                for st, ids in zip(studies, subtype_sets, strict=True)
                for d in ids
            ],
            batch_size=BATCH,
        )
        outcomes = Outcome.objects.bulk_create(
            [o for st in studies for o in self._outcomes(st)], batch_size=BATCH
        )
        provenance = Provenance.objects.bulk_create(
            [
                Provenance(
                    study_id=st.pk,
                    source=rng.choice(dist.provenance_sources),
                    note="Synthetic record for load testing.",
                    facts=[],
                )
                for st in studies
                for _ in range(rng.choice(dist.provenance_counts))
                if dist.provenance_sources
            ],
            batch_size=BATCH,
        )
        self.report.studies += len(studies)
        self.report.references += len(refs)
        self.report.authors += authors
        self.report.outcomes += len(outcomes)
        self.report.provenance += len(provenance)

    def _names(self, ids: list[int], names: dict[int, str]) -> str:
        # Short enough for a study label (200 characters) with everything else in it.
        words = [names.get(i, "?") for i in ids]
        joined = " and ".join(words)
        return joined if len(joined) <= 60 else f"{words[0]} and others"

    def _references(self, groups, therapy_sets, subtype_sets) -> tuple[list[Reference], int]:
        rng, dist = self.rng, self.dist
        refs, author_rows, first = [], [], 0
        for size in groups:
            number = self.ref_no
            self.ref_no += 1
            drawn = rng.choice(dist.references)
            therapy = self._names(therapy_sets[first], dist.therapy_names)
            subtype = self._names(subtype_sets[first], dist.subtype_names).lower()
            title = (
                f"{therapy} in {subtype}: experience from synthetic cohort {number}"
                if size > 1
                else f"{therapy} in {subtype} (synthetic report {number})"
            )
            names = [
                self._author(position) for position in range(1, rng.choice(dist.author_counts) + 1)
            ]
            refs.append(
                Reference(
                    bibtex_key=f"{PREFIX}{number:08d}",
                    title=title,
                    title_normalised=normalise_title(title)[:500],
                    first_author=names[0][0],
                    year=drawn["year"],
                    journal=drawn["journal"],
                    kind=drawn["kind"],
                    role=drawn["role"],
                    authors_truncated=drawn["authors_truncated"],
                    notes="Synthetic reference for load testing.",
                    status=ReviewStatus.PUBLISHED,
                )
            )
            author_rows.append(names)
            first += size
        refs = Reference.objects.bulk_create(refs, batch_size=BATCH)
        authors = Author.objects.bulk_create(
            [
                Author(
                    reference_id=ref.pk,
                    position=position,
                    family=family,
                    given=given,
                    is_corporate=corporate,
                )
                for ref, names in zip(refs, author_rows, strict=True)
                for position, (family, given, corporate) in enumerate(names, start=1)
            ],
            batch_size=BATCH,
        )
        return refs, len(authors)

    def _author(self, position: int) -> tuple[str, str, bool]:
        rng = self.rng
        if rng.random() < self.dist.corporate_rate:
            return f"Synthetic Myositis Study Group {rng.randint(1, 99)}", "", True
        family = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
        given = "".join(rng.choice("ABCDEFGHJKLMNPRSTVW") for _ in range(rng.randint(1, 2)))
        return family, given, False

    def _study(self, ref: Reference, therapy_ids: list[int], subtype_ids: list[int]) -> Study:
        rng, dist = self.rng, self.dist
        number = self.study_no
        self.study_no += 1
        # The design from all real studies; every other field from a real study of that design
        # (a case report keeps one patient, a trial its blinding), drawn field by field.
        design = rng.choice(dist.designs)
        same_design = dist.by_design[design]
        values = {
            name: rng.choice(same_design)[name]
            for name in STUDY_SAMPLED
            if not name.startswith("level_override")
        }
        # An override only travels with its reason, and only where the real corpus has one.
        override = rng.choice(same_design)
        values["level_override"] = override["level_override"]
        values["level_override_reason"] = override["level_override_reason"]
        therapy = self._names(therapy_ids, dist.therapy_names)
        subtype = self._names(subtype_ids, dist.subtype_names).lower()
        design = StudyDesign(values["design"]).label.lower()
        patients = values["sample_size"]
        who = f"{patients} patients" if patients else "Patients"
        return Study(
            key=f"{PREFIX}{number:08d}",
            reference_id=ref.pk,
            label=f"{therapy} in {subtype}: {design} (synthetic {number})",
            summary=f"{who} with {subtype} received {therapy} in a {design}; synthetic "
            f"record {number}, generated for load testing.",
            level=effective_level(values["design"], values["level_override"]),
            status=ReviewStatus.PUBLISHED,
            **values,
        )

    def _outcomes(self, study: Study) -> list[Outcome]:
        rng, dist = self.rng, self.dist
        rows = []
        for order in range(rng.choice(dist.outcome_counts) if dist.outcomes else 0):
            drawn = rng.choice(dist.outcomes)
            n = study.sample_size or drawn["n"]
            responders = rng.randint(0, n) if n and drawn["has_responders"] else None
            rows.append(
                Outcome(
                    study_id=study.pk,
                    measure=drawn["measure"],
                    timepoint=drawn["timepoint"],
                    n=n,
                    responders=responders,
                    is_primary=drawn["is_primary"],
                    order=order,
                    value="" if responders is not None else "synthetic value",
                )
            )
        return rows


def generate_synthetic(
    *,
    studies: int,
    force: bool = False,
    seed: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
) -> GenerateReport:
    """Add ``studies`` synthetic published studies (with references, authors, outcomes...).

    Refuses (``SyntheticError``) a database holding published real content unless ``force``:
    synthetic rows must never be mixed into a production corpus by accident. On PostgreSQL,
    ``workers`` processes write batches side by side (one transaction per batch).
    """
    if studies < 1:
        raise SyntheticError("Give a positive number of studies.")
    if workers < 1:
        raise SyntheticError("Give at least one worker.")
    if holds_published_real_content() and not force:
        raise SyntheticError(
            "This database holds a published real corpus; synthetic studies would be mixed "
            "into it. Use a database of its own for load testing, or pass --force if this one "
            "is such a database."
        )
    # Each batch owns a block of numbers, so that batches need not know about each other
    # (a batch has at most as many references as studies).
    study_base, ref_base = _next_number(Study, "key"), _next_number(Reference, "bibtex_key")
    jobs = [
        _Job(
            study_base + offset,
            ref_base + offset,
            min(BATCH, studies - offset),
            None if seed is None else seed * 1_000_003 + offset,
        )
        for offset in range(0, studies, BATCH)
    ]
    global _DIST
    _DIST = real_distributions()
    report, started, done = GenerateReport(), time.monotonic(), 0
    try:
        for counts in _run(jobs, workers):
            report.add(counts)
            done += counts.studies
            if progress:
                progress(done, studies)
    finally:
        content_changed()  # bulk inserts send no signals: invalidate cached pages here
        _DIST = None
    report.seconds = time.monotonic() - started
    return report


@dataclass
class _Job:
    study_no: int
    ref_no: int
    size: int
    seed: int | None


_DIST: Distributions | None = None  # read once by the parent, inherited by forked workers


def _write(job: _Job) -> GenerateReport:
    writer = _Writer(_DIST, random.Random(job.seed), job.study_no, job.ref_no)
    with transaction.atomic():
        writer.write(job.size)
    return writer.report


def _run(jobs: list[_Job], workers: int) -> Iterator[GenerateReport]:
    """Write the batches, in this process or (PostgreSQL) in ``workers`` forked ones: Python
    builds one batch while the database stores another, which uses both cores."""
    if workers == 1 or connection.vendor != "postgresql" or len(jobs) == 1:
        yield from map(_write, jobs)
        return
    connections.close_all()  # each worker opens its own connection
    with multiprocessing.get_context("fork").Pool(
        workers, initializer=connections.close_all
    ) as pool:
        yield from pool.imap_unordered(_write, jobs)


@dataclass
class ClearReport:
    deleted: dict[str, int]
    kept_references: int

    def lines(self) -> list[str]:
        lines = [f"{name}: {n} deleted" for name, n in self.deleted.items()]
        if self.kept_references:
            lines.append(f"{self.kept_references} synthetic references kept: real rows use them")
        return lines


def _delete_where(model, column: str, subquery: QuerySet) -> int:
    """DELETE rows whose ``column`` is in ``subquery``, in one statement.

    Not ``QuerySet.delete()``: that loads every row to send signals, minutes for 100k studies.
    """
    sql, params = subquery.query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(column)} IN ({sql})", params
        )
        return cursor.rowcount


@transaction.atomic
def clear_synthetic() -> ClearReport:
    """Remove every synthetic study and reference (and what hangs off them)."""
    studies = Study.objects.filter(key__startswith=PREFIX).order_by().values("pk")
    deleted = {}
    for model, column, label in (
        (Study.therapies.through, "study_id", "study-therapy links"),
        (Study.subtypes.through, "study_id", "study-subtype links"),
        (Statement.studies.through, "study_id", "statement-study links"),
        (Outcome, "study_id", "outcomes"),
        (Provenance, "study_id", "provenance records"),
    ):
        deleted[label] = _delete_where(model, column, studies)
    deleted["studies"] = _delete_where(Study, "id", studies)
    # A real study or rationale citing a synthetic reference keeps it (and its authors).
    references = Reference.objects.filter(bibtex_key__startswith=PREFIX)
    removable = (
        references.filter(studies__isnull=True, rationales__isnull=True).order_by().values("pk")
    )
    kept = references.count() - removable.count()
    deleted["authors"] = _delete_where(Author, "reference_id", removable)
    deleted["reference-statement links"] = _delete_where(
        Statement.references.through, "reference_id", removable
    )
    deleted["references"] = _delete_where(Reference, "id", removable)
    content_changed()
    return ClearReport(deleted=deleted, kept_references=kept)
