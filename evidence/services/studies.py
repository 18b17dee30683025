"""Create and update studies with their outcomes and provenance, in one transaction."""

from __future__ import annotations

from django.db import models, transaction
from django.utils.dateparse import parse_datetime

from core.choices import ReviewStatus
from core.services import save_changes
from evidence.models import DiseaseSubtype, Outcome, Provenance, Statement, Study
from references.models import Reference
from therapies.models import Therapy

STUDY_FIELDS = (
    "label", "design", "phase", "blinding", "comparator", "sample_size", "age_group",
    "refractory", "primary_endpoint", "primary_endpoint_met", "result", "summary",
    "adverse_events", "follow_up", "level_override", "level_override_reason",
)
OUTCOME_FIELDS = ("measure", "description", "timepoint", "responders", "n", "value", "is_primary")
PROVENANCE_FIELDS = ("source", "url", "pmid", "facts", "note")
# Set only when the data gives them (a backup does; the curated fixtures do not), so that
# reloading the fixtures never clears a curator's verification.
OPTIONAL_STUDY_FIELDS = ("verified",)
OPTIONAL_PROVENANCE_FIELDS = ("verified", "verified_by", "verified_at")


class StudyDataError(ValueError):
    """A study record that cannot be saved; the message says which field and why."""


def _resolve(model, field: str, values: list[str], what: str):
    found = {getattr(obj, field): obj for obj in model.objects.filter(**{f"{field}__in": values})}
    missing = [v for v in values if v not in found]
    if missing:
        raise StudyDataError(f"unknown {what}: {', '.join(missing)}")
    return [found[v] for v in values]


@transaction.atomic
def upsert_study(
    *,
    key: str,
    reference: Reference,
    therapies: list[str],
    subtypes: list[str],
    outcomes: list[dict] | None = None,
    provenance: list[dict] | None = None,
    status: str = ReviewStatus.DRAFT,
    **fields,
) -> Study:
    """Create or update the study ``key``; therapies by slug, subtypes by code.

    Outcome and provenance rows are matched by position so that reloading the same data keeps
    their ids (and writes no history).
    """
    unknown = set(fields) - set(STUDY_FIELDS) - set(OPTIONAL_STUDY_FIELDS)
    if unknown:
        raise StudyDataError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not therapies:
        raise StudyDataError("a study needs at least one therapy")
    if not subtypes:
        raise StudyDataError("a study needs at least one disease subtype")
    therapy_objs = _resolve(Therapy, "slug", therapies, "therapy slug(s)")
    subtype_objs = _resolve(DiseaseSubtype, "code", subtypes, "subtype code(s)")

    study = Study.objects.filter(key=key).first() or Study(key=key)
    values = {name: fields.get(name, _default(name)) for name in STUDY_FIELDS}
    values.update({name: fields[name] for name in OPTIONAL_STUDY_FIELDS if name in fields})
    values.update(reference_id=reference.pk, status=status)
    save_changes(study, values)
    if set(study.therapies.all()) != set(therapy_objs):
        study.therapies.set(therapy_objs)
    if set(study.subtypes.all()) != set(subtype_objs):
        study.subtypes.set(subtype_objs)
    _sync_rows(study, Outcome, "outcomes", OUTCOME_FIELDS, outcomes or [], ordered=True)
    _sync_rows(study, Provenance, "provenance", PROVENANCE_FIELDS, provenance or [],
               optional=OPTIONAL_PROVENANCE_FIELDS)
    return study


def _field_value(model, name: str, value):
    """JSON gives datetimes as ISO 8601 text."""
    if value and isinstance(model._meta.get_field(name), models.DateTimeField):
        parsed = parse_datetime(value)
        if parsed is None:
            raise StudyDataError(f"{name}: '{value}' is not an ISO 8601 date and time")
        return parsed
    return value


def _default(name: str):
    return None if name in {"sample_size", "refractory", "primary_endpoint_met",
                            "level_override"} else ""


def _sync_rows(study, model, related: str, names, rows: list[dict], ordered: bool = False,
               optional: tuple[str, ...] = ()):
    current = list(getattr(study, related).order_by("pk"))
    for index, row in enumerate(rows):
        unknown = set(row) - set(names) - set(optional)
        if unknown:
            raise StudyDataError(
                f"{related}[{index}]: unknown field(s) {', '.join(sorted(unknown))}")
        values = {name: row.get(name, model._meta.get_field(name).get_default())
                  for name in names}
        values.update({name: _field_value(model, name, row[name])
                       for name in optional if name in row})
        values = {k: ("" if v is None and not model._meta.get_field(k).null else v)
                  for k, v in values.items()}
        if ordered:
            values["order"] = index
        instance = current[index] if index < len(current) else model(study=study)
        save_changes(instance, values)
    for extra in current[len(rows):]:
        extra.delete()


@transaction.atomic
def upsert_statement(
    *, key: str, therapy: str, text: str, studies: list[str], references: list[int | str],
    order: int = 0, status: str = ReviewStatus.DRAFT,
) -> Statement:
    """A summary claim of the review about a therapy, with what supports it.

    References are named by their number in the review, or by BibTeX key for unnumbered ones
    (such as the source review itself).
    """
    therapy_obj = _resolve(Therapy, "slug", [therapy], "therapy slug")[0]
    study_objs = _resolve(Study, "key", studies, "study key(s)") if studies else []
    numbers = [r for r in references if isinstance(r, int)]
    keys = [r for r in references if isinstance(r, str)]
    reference_objs = (_resolve(Reference, "number", numbers, "reference number(s)") if numbers
                      else []) + (_resolve(Reference, "bibtex_key", keys, "reference key(s)")
                                  if keys else [])
    if not study_objs and not reference_objs:
        raise StudyDataError(f"statement {key}: link at least one study or reference")
    statement = Statement.objects.filter(key=key).first() or Statement(key=key)
    save_changes(statement, {"therapy_id": therapy_obj.pk, "text": text, "order": order,
                          "status": status})
    if set(statement.studies.all()) != set(study_objs):
        statement.studies.set(study_objs)
    if set(statement.references.all()) != set(reference_objs):
        statement.references.set(reference_objs)
    return statement
