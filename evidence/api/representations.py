"""A study as the API shows it, written out field by field (issue 16).

DRF's generic ``to_representation`` walks every declared field of a study and of each of its
outcomes, provenance records and arms: for a page of 50 studies that is some 5,000 field
objects asked for their attribute and their representation, a third of the API study list's
time. The functions below give the same dictionaries from the same attributes;
``StudySerializer`` declares the fields (and so the schema) and calls them. A list page
(``studies``) reads the studies' related rows as plain values, one query per relation, instead
of a prefetch: building those model instances, and a queryset per study and relation, was most
of the rest. tests/evidence/test_api_representation.py compares both with DRF's generic path.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from rest_framework import serializers

from core.workflow import is_curator
from evidence.models import Arm, Outcome, Provenance, Study, StudySubtypeCount

# The DRF field that writes datetimes, as ModelSerializer builds it (ISO 8601, "Z" for UTC,
# in the current time zone): the one representation not the attribute's own value.
_DATETIME = serializers.DateTimeField()
PUBLIC_VERIFIER = "a second curator"


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


def reference(ref) -> dict | None:
    if ref is None:
        return None
    return {
        "id": ref.pk,
        "number": ref.number,
        "title": ref.title,
        "year": ref.year,
        "pmid": ref.pmid,
        "doi": ref.doi,
    }


def outcome(row) -> dict:
    return {
        "id": row.pk,
        "measure": row.measure,
        "description": row.description,
        "timepoint": row.timepoint,
        "responders": row.responders,
        "n": row.n,
        "value": row.value,
        "is_primary": row.is_primary,
        "display_value": row.display_value,
    }


def provenance(row, *, request=None) -> dict:
    # Staff names are not published: readers see who verified as "a second curator". Asked
    # only of verified records, as ProvenanceSerializer.get_verified_by did (a group lookup).
    verified_by = ""
    if row.verified_by:
        curator = request is not None and is_curator(request.user)
        verified_by = row.verified_by if curator else PUBLIC_VERIFIER
    return {
        "source": row.source,
        "url": row.url,
        "pmid": row.pmid,
        "facts": row.facts,
        "note": row.note,
        "verified": row.verified,
        "verified_by": verified_by,
        "verified_at": _datetime(row.verified_at),
    }


def arm(row) -> dict:
    return {
        "label": row.label,
        "therapy": row.therapy.slug if row.therapy is not None else None,
        "role": row.role,
        "dose": row.dose,
        "route": row.route,
        "schedule": row.schedule,
        "duration": row.duration,
        "n": row.n,
    }


def study(row, *, request=None, related: dict | None = None) -> dict:
    """The StudySerializer representation of a study: its related rows from ``related``
    (``related_rows``) or else from the study (read ``for_detail()``)."""
    if related is None:
        related = {
            "therapies": [t.slug for t in row.therapies.all()],
            "subtypes": [s.code for s in row.subtypes.all()],
            "outcomes": [outcome(o) for o in row.outcomes.all()],
            "provenance": [provenance(p, request=request) for p in row.provenance.all()],
            "arms": [arm(a) for a in row.arms.all()],
            "subtype_counts": {c.subtype.code: c.n for c in row.subtype_counts.all()},
        }
    path = row.get_absolute_url()
    return {
        "id": row.pk,
        "key": row.key,
        "label": row.label,
        "reference": reference(row.reference),
        "therapies": related["therapies"],
        "subtypes": related["subtypes"],
        "design": row.design,
        "phase": row.phase,
        "blinding": row.blinding,
        "comparator": row.comparator,
        "sample_size": row.sample_size,
        "age_group": row.age_group,
        "refractory": row.refractory,
        "primary_endpoint": row.primary_endpoint,
        "primary_endpoint_met": row.primary_endpoint_met,
        "result": row.result,
        "level": row.level,
        "level_reason": row.level_reason,
        "level_override": row.level_override,
        "level_override_reason": row.level_override_reason,
        "summary": row.summary,
        "adverse_events": row.adverse_events,
        "follow_up": row.follow_up,
        "outcomes": related["outcomes"],
        "provenance": related["provenance"],
        "verified": row.verified,
        "status": row.status,
        "modified": _datetime(row.modified),
        "page_url": request.build_absolute_uri(path) if request is not None else path,
        "trial": row.trial.key if row.trial is not None else None,
        "publication_role": row.publication_role,
        "data_availability": row.data_availability,
        "has_result_data": row.has_result_data,
        "safety_signal": row.safety_signal,
        "arms": related["arms"],
        "subtype_counts": related["subtype_counts"],
    }


def _by_study(rows, make) -> defaultdict:
    grouped = defaultdict(list)
    for row in rows:
        grouped[row["study_id"]].append(make(row))
    return grouped


def _through(field: str, target: str, ids: list[int]) -> defaultdict:
    """``{study id: [target of each linked row]}`` in the linked model's own order, as a
    prefetch of the many-to-many field gives them."""
    m2m = Study._meta.get_field(field)
    name = m2m.m2m_reverse_field_name()  # the through model's link to the other side
    ordering = [
        f"-{name}__{o[1:]}" if o.startswith("-") else f"{name}__{o}"
        for o in m2m.related_model._meta.ordering
    ]
    key = f"{name}__{target}"
    rows = (
        m2m.remote_field.through.objects.filter(study_id__in=ids)
        .order_by(*ordering)
        .values("study_id", key)
    )
    return _by_study(rows, lambda row: row[key])


def related_rows(ids: list[int], *, request=None) -> dict[int, dict]:
    """Every study's related rows, represented, for a page of study ids: one query per
    relation, reading plain values (no model instances: most of a prefetch's time went on
    building them and a queryset per study and relation)."""
    outcome_fields = [f for f in OUTCOME_KEYS if f not in ("id", "display_value")]
    outcomes = _by_study(
        Outcome.objects.filter(study_id__in=ids).values("study_id", "id", *outcome_fields),
        lambda row: outcome(_Row(row)),
    )
    provenance_rows = _by_study(
        Provenance.objects.filter(study_id__in=ids).values("study_id", *PROVENANCE_KEYS),
        lambda row: provenance(_Row(row), request=request),
    )
    arms = _by_study(
        Arm.objects.filter(study_id__in=ids).values("study_id", "therapy__slug", *ARM_KEYS),
        lambda row: arm(_Row(row, therapy=_therapy(row.pop("therapy__slug")))),
    )
    counts = _by_study(
        StudySubtypeCount.objects.filter(study_id__in=ids).values("study_id", "subtype__code", "n"),
        lambda row: (row["subtype__code"], row["n"]),
    )
    therapies = _through("therapies", "slug", ids)
    subtypes = _through("subtypes", "code", ids)
    return {
        pk: {
            "therapies": therapies[pk],
            "subtypes": subtypes[pk],
            "outcomes": outcomes[pk],
            "provenance": provenance_rows[pk],
            "arms": arms[pk],
            "subtype_counts": dict(counts[pk]),
        }
        for pk in ids
    }


def studies(rows, *, request=None) -> list[dict]:
    """Many studies (read with their reference and trial): StudySerializer(many=True)."""
    rows = list(rows)
    related = related_rows([row.pk for row in rows], request=request)
    return [study(row, request=request, related=related[row.pk]) for row in rows]


OUTCOME_KEYS = ("id", "measure", "description", "timepoint", "responders", "n", "value")
OUTCOME_KEYS += ("is_primary", "display_value")
PROVENANCE_KEYS = ("source", "url", "pmid", "facts", "note", "verified", "verified_by")
PROVENANCE_KEYS += ("verified_at",)
ARM_KEYS = ("label", "role", "dose", "route", "schedule", "duration", "n")


class _Row(SimpleNamespace):
    """A values() row read as the model's attributes (``pk``, ``display_value``)."""

    def __init__(self, values: dict, **extra):
        super().__init__(**values, **extra)
        self.pk = values.get("id")

    @property
    def display_value(self) -> str:
        return Outcome.display_value.fget(self)


def _therapy(slug: str | None) -> SimpleNamespace | None:
    """An arm's therapy, of which the API shows the slug (None: placebo or sham)."""
    return None if slug is None else SimpleNamespace(slug=slug)
