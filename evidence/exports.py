"""The studies CSV, streamed row by row: the same columns on the pages, the API, the releases
and the admin (which appends the curators' columns), through the site's one CSV writer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core.csvfile import csv_lines
from evidence.models import Study

STUDY_CSV_COLUMNS = [
    "id",
    "label",
    "reference_number",
    "first_author",
    "year",
    "title",
    "journal",
    "pmid",
    "doi",
    "therapies",
    "subtypes",
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
    "level",
    "level_reason",
    "summary",
    "adverse_events",
    "follow_up",
    "outcomes",
    "verified",
    "url",
    # The synthesis layer (issue 13), appended so that existing columns keep their places.
    "trial",
    "publication_role",
    "data_availability",
    "has_result_data",
    "safety_signal",
    "tested",
    "background",
    "arms",
    "subtype_counts",
]
# What the admin's "Export selected as CSV" adds for curators (drafts are exported there too).
CURATOR_CSV_COLUMNS = ["key", "status", "level_override_reason"]


def _yes_no(value) -> str:
    return "" if value is None else ("yes" if value else "no")


def study_row(study: Study, base_url: str = "") -> list:
    ref = study.reference
    outcomes = "; ".join(
        f"{o.get_measure_display()}{' (' + o.timepoint + ')' if o.timepoint else ''}: "
        f"{o.display_value}"
        for o in study.outcomes.all()
    )
    return [
        study.pk,
        study.label,
        ref.number or "",
        ref.first_author,
        ref.year or "",
        ref.title,
        ref.journal,
        ref.pmid,
        ref.doi,
        "; ".join(sorted(t.slug for t in study.therapies.all())),
        "; ".join(sorted(s.code for s in study.subtypes.all())),
        study.design,
        study.phase,
        study.blinding,
        study.comparator,
        "" if study.sample_size is None else study.sample_size,
        study.age_group,
        _yes_no(study.refractory),
        study.primary_endpoint,
        _yes_no(study.primary_endpoint_met),
        study.result,
        "" if study.level is None else study.level,
        study.level_reason,
        study.summary,
        study.adverse_events,
        study.follow_up,
        outcomes,
        _yes_no(study.verified),
        base_url + study.get_absolute_url(),
        *_synthesis_columns(study),
    ]


def _synthesis_columns(study: Study) -> list:
    arms = list(study.arms.all())

    def slugs(role):
        return "; ".join(sorted({a.therapy.slug for a in arms if a.role == role and a.therapy}))

    regimens = "; ".join(
        f"{a.label} ({a.role}"
        + "".join(f", {v}" for v in (a.dose, a.route, a.schedule, a.duration) if v)
        + (f", n={a.n}" if a.n is not None else "")
        + ")"
        for a in arms
    )
    counts = "; ".join(f"{c.subtype.code} {c.n}" for c in study.subtype_counts.all())
    return [
        study.trial.key if study.trial else "",
        study.publication_role,
        study.data_availability,
        _yes_no(study.has_result_data),
        _yes_no(study.safety_signal),
        slugs("tested"),
        slugs("background"),
        regimens,
        counts,
    ]


def studies_csv(
    studies: Iterable[Study], base_url: str = "", *, curator: bool = False
) -> Iterator[str]:
    """The studies as streamed CSV lines, through the site's one writer (``core.csvfile``);
    ``curator`` appends the curators' columns (the admin's export)."""
    if not curator:
        return csv_lines(STUDY_CSV_COLUMNS, (study_row(study, base_url) for study in studies))
    return csv_lines(
        STUDY_CSV_COLUMNS + CURATOR_CSV_COLUMNS,
        (
            study_row(study, base_url) + [getattr(study, name) for name in CURATOR_CSV_COLUMNS]
            for study in studies
        ),
    )
