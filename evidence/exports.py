"""The studies CSV, streamed row by row: the same columns on the pages, the API, the releases
and the admin (which appends the curators' columns), through the site's one CSV writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

from django.db.models import OuterRef, QuerySet
from django.urls import reverse

from core.csvfile import csv_lines
from core.streaming import BATCH_ROWS, RowsAsJSON, json_rows, value_batches
from evidence.choices import ArmRole
from evidence.models import Arm, DiseaseSubtype, Outcome, Study, StudySubtypeCount
from therapies.models import Therapy

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


STUDY_FIELDS = (
    "pk",
    "label",
    "reference__number",
    "reference__first_author",
    "reference__year",
    "reference__title",
    "reference__journal",
    "reference__pmid",
    "reference__doi",
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
    "level_override",
    "level_override_reason",
    "summary",
    "adverse_events",
    "follow_up",
    "verified",
    "trial__key",
    "publication_role",
    "data_availability",
    "has_result_data",
    "safety_signal",
    "key",
    "status",
)


def _yes_no(value) -> str:
    return "" if value is None else ("yes" if value else "no")


def choice_labels(model, name: str) -> dict:
    """A field's choices as value -> label (what ``get_<name>_display`` gives), for rows read
    as values."""
    return {value: str(label) for value, label in model._meta.get_field(name).flatchoices}


def study_url() -> Callable[[int], str]:
    """``Study.get_absolute_url`` for rows read as values: the pattern reversed once, the id
    filled in per row."""
    marker = 987654321
    head, tail = reverse("evidence:study_detail", args=[marker]).split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def _level_reason(row: dict, designs: dict) -> str:
    # Study.level_reason's own rule and words, read from the row's values.
    design = row["design"]
    return Study.level_reason.fget(
        SimpleNamespace(
            level_override=row["level_override"],
            level_override_reason=row["level_override_reason"],
            level=row["level"],
            get_design_display=lambda: designs.get(design, design),
        )
    )


# Each study's related rows, as columns of the studies' own query (``RowsAsJSON``): the
# annotation's name, its rows (ordered as the models order them) and the values of each row.
# Therapies and subtypes by key, named from the two small tables read once (a join in each
# study's lookup made PostgreSQL build a hash table per study: half of the query's time).
RELATED = {
    "therapies_json": (Study.therapies.through.objects, (), ("therapy_id",)),
    "subtypes_json": (Study.subtypes.through.objects, (), ("diseasesubtype_id",)),
    "outcomes_json": (
        Outcome.objects,
        ("order", "pk"),
        ("measure", "timepoint", "responders", "n", "value"),
    ),
    "arms_json": (
        Arm.objects,
        ("order", "pk"),
        ("label", "role", "dose", "route", "schedule", "duration", "n", "therapy_id"),
    ),
    "counts_json": (StudySubtypeCount.objects, (), ("subtype_id", "n")),
}


def _with_related(studies: QuerySet[Study]) -> QuerySet[Study]:
    return studies.annotate(
        **{
            name: RowsAsJSON(manager.filter(study=OuterRef("pk")).order_by(*order), fields)
            for name, (manager, order, fields) in RELATED.items()
        }
    )


def _csv_rows(studies: QuerySet[Study], base_url: str, curator: bool) -> Iterator[list]:
    """The CSV's rows, in the queryset's order, from plain values read per batch of studies.

    Written by hand rather than from model instances: building each study with its seven
    kinds of related rows streamed the 100,000-study export at 0.4 MB/s (bench/RESULTS.md);
    the same columns from values are many times faster. tests/test_render_identity.py holds
    the bytes of the instance-based writer this replaced, which this one must reproduce.
    """
    designs = choice_labels(Study, "design")
    measures = choice_labels(Outcome, "measure")
    url = study_url()
    therapy_slugs = dict(Therapy.objects.values_list("pk", "slug"))
    subtype_codes = dict(DiseaseSubtype.objects.values_list("pk", "code"))
    # A study's subtype counts in the subtypes' own order (the model's ordering).
    subtype_rank = {pk: rank for rank, pk in enumerate(subtype_codes)}
    for rows in value_batches(_with_related(studies), (*STUDY_FIELDS, *RELATED), BATCH_ROWS):
        for row in rows:
            pk = row["pk"]
            outcomes = "; ".join(
                f"{measures.get(measure, measure)}{' (' + timepoint + ')' if timepoint else ''}: "
                f"{display_value(responders, n, value)}"
                for measure, timepoint, responders, n, value in json_rows(row["outcomes_json"])
            )
            arms = [(*arm[:-1], therapy_slugs.get(arm[-1])) for arm in json_rows(row["arms_json"])]

            def slugs(role, arms=arms):
                return "; ".join(sorted({arm[-1] for arm in arms if arm[1] == role and arm[-1]}))

            regimens = "; ".join(
                f"{label} ({role}"
                + "".join(f", {v}" for v in (dose, route, schedule, duration) if v)
                + (f", n={n}" if n is not None else "")
                + ")"
                for label, role, dose, route, schedule, duration, n, _ in arms
            )
            line = [
                pk,
                row["label"],
                row["reference__number"] or "",
                row["reference__first_author"],
                row["reference__year"] or "",
                row["reference__title"],
                row["reference__journal"],
                row["reference__pmid"],
                row["reference__doi"],
                "; ".join(sorted(therapy_slugs[t] for (t,) in json_rows(row["therapies_json"]))),
                "; ".join(sorted(subtype_codes[s] for (s,) in json_rows(row["subtypes_json"]))),
                row["design"],
                row["phase"],
                row["blinding"],
                row["comparator"],
                "" if row["sample_size"] is None else row["sample_size"],
                row["age_group"],
                _yes_no(row["refractory"]),
                row["primary_endpoint"],
                _yes_no(row["primary_endpoint_met"]),
                row["result"],
                "" if row["level"] is None else row["level"],
                _level_reason(row, designs),
                row["summary"],
                row["adverse_events"],
                row["follow_up"],
                outcomes,
                _yes_no(row["verified"]),
                base_url + url(pk),
                row["trial__key"] or "",
                row["publication_role"],
                row["data_availability"],
                _yes_no(row["has_result_data"]),
                _yes_no(row["safety_signal"]),
                slugs(ArmRole.TESTED),
                slugs(ArmRole.BACKGROUND),
                regimens,
                "; ".join(
                    f"{subtype_codes[subtype]} {n}"
                    for subtype, n in sorted(
                        json_rows(row["counts_json"]), key=lambda count: subtype_rank[count[0]]
                    )
                ),
            ]
            if curator:
                line += [row[name] for name in CURATOR_CSV_COLUMNS]
            yield line
        # This batch is let go of before the next is read (see references.formats._records).
        del rows


def display_value(responders, n, value) -> str:
    """Outcome.display_value of an outcome's values (the same rule, without an instance)."""
    return Outcome.display_value.fget(SimpleNamespace(responders=responders, n=n, value=value))


def studies_csv(
    studies: QuerySet[Study], base_url: str = "", *, curator: bool = False
) -> Iterator[str]:
    """The studies as streamed CSV lines, through the site's one writer (``core.csvfile``);
    ``curator`` appends the curators' columns (the admin's export)."""
    header = STUDY_CSV_COLUMNS + (CURATOR_CSV_COLUMNS if curator else [])
    return csv_lines(header, _csv_rows(studies, base_url, curator))
