"""Create and update studies with their outcomes and provenance, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from core.choices import ReviewStatus
from core.services import attributed, save_changes
from core.workflow import load_status
from evidence.choices import ArmRole
from evidence.models import (
    Arm,
    DiseaseSubtype,
    Outcome,
    OutcomeArmResult,
    Provenance,
    Study,
    StudySubtypeCount,
    Trial,
)
from references.models import Reference
from therapies.models import Therapy

if TYPE_CHECKING:  # pragma: no cover
    from django.contrib.auth.models import AbstractBaseUser

STUDY_FIELDS = (
    "label",
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
    "summary",
    "adverse_events",
    "follow_up",
    "level_override",
    "level_override_reason",
    "publication_role",
    "data_availability",
    "has_result_data",
    "safety_signal",
)
# Arms and per-subtype counts (issue 13); arm results are given inside each outcome row.
ARM_FIELDS = ("label", "therapy", "role", "dose", "route", "schedule", "duration", "n")
ARM_RESULT_FIELDS = ("arm", "responders", "n", "value")
OUTCOME_FIELDS = ("measure", "description", "timepoint", "responders", "n", "value", "is_primary")
PROVENANCE_FIELDS = ("source", "url", "pmid", "facts", "note")
# Set only when the data gives them (a backup does; the curated fixtures do not), so that
# reloading the fixtures never clears a curator's verification.
OPTIONAL_STUDY_FIELDS = ("verified",)
OPTIONAL_PROVENANCE_FIELDS = ("verified", "verified_by", "verified_at")
# A provenance record whose content changes loses its verification (who checked it, and when):
# the API (``_sync_provenance``) and the admin (``evidence.admin.ProvenanceForm``) both.
UNVERIFIED = {"verified": False, "verified_by": "", "verified_at": None}


class StudyDataError(ValueError):
    """A study record that cannot be saved; the message says which field and why."""


def resolve_names(model, field: str, values: list, what: str) -> list:
    """The instances of ``model`` whose ``field`` is each of ``values``, in order (the
    fixtures name entries by slug, code, key or number); ``StudyDataError`` names any missing.
    """
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
    status: str | None = ReviewStatus.DRAFT,
    trial: str | None = None,
    arms: list[dict] | None = None,
    subtype_counts: dict[str, int] | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields,
) -> Study:
    """Create or update the study ``key`` as the fixtures and backups describe it: therapies
    by slug, subtypes by code, the trial by key; rows not given are cleared. ``status`` (a
    trusted source's) goes through ``core.workflow.load_status``.

    Outcome and provenance rows are matched by position so that reloading the same data keeps
    their ids (and writes no history).
    """
    if not therapies:
        raise StudyDataError("a study needs at least one therapy")
    if not subtypes:
        raise StudyDataError("a study needs at least one disease subtype")
    study = Study.objects.filter(key=key).first() or Study(key=key)
    save_study(
        study=study,
        reference=reference,
        therapies=resolve_names(Therapy, "slug", therapies, "therapy slug(s)"),
        subtypes=resolve_names(DiseaseSubtype, "code", subtypes, "subtype code(s)"),
        trial=resolve_names(Trial, "key", [trial], "trial key")[0] if trial else None,
        outcomes=outcomes or [],
        provenance=provenance or [],
        arms=arms,
        subtype_counts=subtype_counts,
        user=user,
        reason=reason,
        **fields,
    )
    if status is not None:
        load_status(study, status=status, reason=reason)
    return study


@transaction.atomic
def save_study(
    *,
    study: Study,
    reference: Reference,
    therapies: Sequence[Therapy],
    subtypes: Sequence[DiseaseSubtype],
    trial: Trial | None = None,
    outcomes: list[dict] | None = None,
    provenance: list[dict] | None = None,
    arms: list[dict] | None = None,
    subtype_counts: dict[str, int] | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **fields: Any,
) -> Study:
    """Write ``study`` (new or stored) with these instances and fields; fields not given take
    their defaults. Rows given as ``None`` (outcomes, provenance, arms, subtype counts) are
    kept as they are; a list replaces them. The status is not touched here (see
    ``core.workflow``)."""
    unknown = set(fields) - set(STUDY_FIELDS) - set(OPTIONAL_STUDY_FIELDS)
    if unknown:
        raise StudyDataError(f"unknown field(s): {', '.join(sorted(unknown))}")
    if not therapies:
        raise StudyDataError("a study needs at least one therapy")
    if not subtypes:
        raise StudyDataError("a study needs at least one disease subtype")
    outcomes = [dict(row) for row in outcomes] if outcomes is not None else None
    # Per-arm results travel inside the outcome rows (``arm_results``).
    arm_results = [row.pop("arm_results", None) for row in outcomes or []]
    values = {name: fields.get(name, _default(name)) for name in STUDY_FIELDS}
    values.update({name: fields[name] for name in OPTIONAL_STUDY_FIELDS if name in fields})
    values.update(reference_id=reference.pk, trial_id=trial.pk if trial else None)
    with attributed(user=user, reason=reason):
        save_changes(
            study, values, links={"therapies": list(therapies), "subtypes": list(subtypes)}
        )
        if outcomes is not None:
            _sync_outcomes(study, outcomes, results_given=arms is not None)
        if provenance is not None:
            _sync_provenance(study, provenance)
        # Given arms replace the study's arms and per-arm results (the fixtures, a backup);
        # when a caller gives none (the API's study form) what curators recorded is kept.
        if arms is not None:
            sync_arms(study, arms, [r or [] for r in arm_results])
        if subtype_counts is not None:
            sync_subtype_counts(study, subtype_counts)
    return study


def _free_key(stem: str) -> str:
    key, n = stem, 1
    while Study.objects.filter(key=key).exists():
        n += 1
        key = f"{stem}-{n}"
    return key


@transaction.atomic
def create_study(
    *,
    reference: Reference,
    therapies: Sequence[Therapy],
    subtypes: Sequence[DiseaseSubtype],
    key: str | None = None,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **data: Any,
) -> Study:
    """A new study, a draft until reviewed; the key is made from the reference number and
    label when not given."""
    if key is None:
        stem = f"ref{reference.number or reference.pk:02d}-{data.get('label', '')}"
        key = _free_key(slugify(stem)[:72] or "study")
    elif Study.objects.filter(key=key).exists():
        raise ValidationError({"key": ["Another study already has this key."]})
    return save_study(
        study=Study(key=key),
        reference=reference,
        therapies=therapies,
        subtypes=subtypes,
        user=user,
        reason=reason,
        **data,
    )


# What ``update_study`` changes besides the study's own fields (``key`` never changes).
_UPDATABLE_ROWS = ("key", "reference", "therapies", "subtypes", "outcomes", "provenance")


@transaction.atomic
def update_study(
    *,
    study: Study,
    user: AbstractBaseUser | None = None,
    reason: str | None = None,
    **changes: Any,
) -> Study:
    """Change what ``changes`` gives; everything else (links, rows, trial, arms, status)
    stays as stored."""
    unknown = set(changes) - {*STUDY_FIELDS, *_UPDATABLE_ROWS}
    if unknown:
        raise StudyDataError(f"unknown field(s): {', '.join(sorted(unknown))}")
    current = {name: getattr(study, name) for name in STUDY_FIELDS}
    current.update({k: v for k, v in changes.items() if k in STUDY_FIELDS})
    before = list(study.therapies.all()) if changes.get("therapies") else None
    facts = _facts(study) if study.verified else None
    saved = save_study(
        study=study,
        reference=changes.get("reference") or study.reference,
        therapies=changes.get("therapies") or list(study.therapies.all()),
        subtypes=changes.get("subtypes") or list(study.subtypes.all()),
        trial=study.trial,
        outcomes=changes.get("outcomes"),
        provenance=changes.get("provenance"),
        user=user,
        reason=reason,
        **current,
    )
    if before is not None:
        # After the save, so that its own refusals (a draft therapy: 409) come first; this
        # transaction then rolls the save back.
        _check_therapies_against_arms(study, before, changes["therapies"])
    if changes.get("subtypes"):
        _check_subtypes_against_counts(study)
    if facts is not None and _facts(study) != facts:
        withdraw_verification(study, user=user)
    return saved


# The history's reason when an edit of a verified study's facts withdraws its verification.
FACTS_CHANGED = "Verification withdrawn: its facts changed"


def withdraw_verification(study: Study, *, user: AbstractBaseUser | None) -> bool:
    """A study's verification is a second curator's check of its facts (without it the public
    page says "not yet verified"): after an edit of those facts it no longer holds. The admin
    and the API call this; the fixtures and backups give the flag themselves. True when it
    was withdrawn."""
    if not study.verified:
        return False
    return save_changes(study, {"verified": False}, user=user, reason=FACTS_CHANGED)


def _facts(study: Study) -> tuple:
    """What a verification of the study checked, as far as this write path can change it: its
    fields, reference, therapies, subtypes and outcomes (it keeps the arms as they are)."""
    return (
        tuple(getattr(study, name) for name in STUDY_FIELDS),
        study.reference_id,
        sorted(study.therapies.values_list("pk", flat=True)),
        sorted(study.subtypes.values_list("pk", flat=True)),
        list(study.outcomes.order_by("order", "pk").values_list(*OUTCOME_FIELDS)),
    )


def _check_therapies_against_arms(
    study: Study, therapies_before: Sequence[Therapy], therapies: Sequence[Therapy]
) -> None:
    """A study with arms is rated for the therapies its tested arms give (evidence.selectors),
    so a change of its therapies that they contradict would be shown and never rated: refused.
    Arms are changed in the admin (this write path keeps them)."""
    tested = {
        arm.therapy: arm.label
        for arm in study.arms.filter(role=ArmRole.TESTED, therapy__isnull=False).select_related(
            "therapy"
        )
    }
    if not tested:
        return
    before, after = set(therapies_before), set(therapies)
    removed = [t for t in before - after if t in tested]
    added = [t for t in after - before if t not in tested]
    if removed or added:
        problems = [f"{t.name} is tested by the arm “{tested[t]}”" for t in removed]
        problems += [f"no arm tests {t.name}" for t in added]
        raise ValidationError(
            {
                "therapies": "The study's arms say which therapies it tests, and they would "
                f"contradict this change ({'; '.join(problems)}): change the arms in the "
                "admin first."
            }
        )


def _check_subtypes_against_counts(study: Study) -> None:
    """Patients counted for a subtype the study no longer has would be kept and never shown
    or used: a change of subtypes that leaves such a count is refused. Patient counts are
    changed in the admin (this write path keeps them)."""
    orphans = [
        f"{count.n} with {count.subtype.name}"
        for count in study.subtype_counts.exclude(subtype__in=study.subtypes.all())
        .select_related("subtype")
        .order_by("subtype__name")
    ]
    if orphans:
        raise ValidationError(
            {
                "subtypes": "The study counts patients per subtype, and this change would leave "
                f"counts for subtypes it no longer has ({'; '.join(orphans)}): remove those "
                "counts in the admin first."
            }
        )


def sync_arms(study: Study, arms: list[dict], arm_results: list[list[dict]]) -> None:
    """The study's arms (matched by position, therapies by slug) and each outcome's per-arm
    results (``arm_results[i]`` for the study's i-th outcome, arms named by label)."""
    rows = []
    for index, arm in enumerate(arms):
        unknown = set(arm) - set(ARM_FIELDS)
        if unknown:
            raise StudyDataError(f"arms[{index}]: unknown field(s) {', '.join(sorted(unknown))}")
        slug = arm.get("therapy")
        therapy = (
            resolve_names(Therapy, "slug", [slug], f"arms[{index}] therapy slug")[0]
            if slug
            else None
        )
        given = {name: arm[name] for name in ARM_FIELDS if name != "therapy" and name in arm}
        rows.append({**given, "therapy_id": therapy.pk if therapy else None})
    labels = [row["label"] for row in rows]
    if len(set(labels)) != len(labels):
        raise StudyDataError("arms: two arms have the same label")
    _sync_rows(study, Arm, "arms", (*ARM_FIELDS[:1], "therapy_id", *ARM_FIELDS[2:]), rows)
    by_label = {arm.label: arm for arm in study.arms.all()}
    _sync_arm_results(study, by_label, arm_results)


def sync_subtype_counts(study: Study, subtype_counts: dict[str, int]) -> None:
    """Patients per subtype (by code; each must be one of the study's subtypes)."""
    codes = set(study.subtypes.values_list("code", flat=True))
    outside = sorted(set(subtype_counts) - codes)
    if outside:
        raise StudyDataError(f"subtype_counts: {', '.join(outside)} not among the study's subtypes")
    subtype_ids = dict(
        DiseaseSubtype.objects.filter(code__in=list(subtype_counts)).values_list("code", "pk")
    )
    current = {c.subtype_id: c for c in study.subtype_counts.all()}
    for code, n in sorted(subtype_counts.items()):
        count = current.pop(subtype_ids[code], None) or StudySubtypeCount(
            study=study, subtype_id=subtype_ids[code]
        )
        save_changes(count, {"n": n})
    for stale in current.values():
        stale.delete()


def _sync_arm_results(study: Study, by_label: dict, arm_results: list[list[dict]]) -> None:
    outcomes = list(study.outcomes.order_by("order", "pk"))
    for index, results in enumerate(arm_results):
        if results and index >= len(outcomes):
            raise StudyDataError(f"outcomes[{index}]: arm results for an outcome that is not there")
    for index, outcome in enumerate(outcomes):
        results = arm_results[index] if index < len(arm_results) else []
        current = {r.arm_id: r for r in outcome.arm_results.all()}
        for result in results:
            unknown = set(result) - set(ARM_RESULT_FIELDS)
            if unknown:
                raise StudyDataError(
                    f"outcomes[{index}] arm_results: unknown field(s) {', '.join(sorted(unknown))}"
                )
            arm = by_label.get(result.get("arm"))
            if arm is None:
                raise StudyDataError(
                    f"outcomes[{index}] arm_results: no arm labelled {result.get('arm')!r}"
                )
            row = current.pop(arm.pk, None) or OutcomeArmResult(outcome=outcome, arm=arm)
            save_changes(
                row,
                {
                    "responders": result.get("responders"),
                    "n": result.get("n"),
                    "value": result.get("value") or "",
                },
            )
        for stale in current.values():
            stale.delete()


def _given_values(model, names, rows: list[dict], what: str, optional=()) -> list[dict]:
    """Each row's values of ``names`` (defaults for those left out); unknown fields refused."""
    wanted = []
    for index, row in enumerate(rows):
        unknown = set(row) - {*names, *optional}
        if unknown:
            raise StudyDataError(f"{what}[{index}]: unknown field(s) {', '.join(sorted(unknown))}")
        values = {name: row.get(name, model._meta.get_field(name).get_default()) for name in names}
        wanted.append(
            {
                k: ("" if v is None and not model._meta.get_field(k).null else v)
                for k, v in values.items()
            }
        )
    return wanted


def _match_rows(current: list, rows: list[dict], wanted: list[dict], what: str, noun: str):
    """Which stored row each given row changes (None: it adds one), the stored rows left
    unmatched, and the indexes matched by position.

    A row with an ``id`` (as the API shows it) changes that row. A row without one keeps the
    stored row it is identical to; failing that, when no row has an id, it changes the next
    stored row not yet matched, in their order (how rows were always matched); else it is
    new. With ids, a row without one is new."""
    by_id = {row.pk: row for row in current}
    matched: list = [None] * len(rows)
    for index, row in enumerate(rows):
        if row.get("id") is None:
            continue
        found = by_id.pop(row["id"], None)
        if found is None:
            raise ValidationError(
                {
                    what: f"{what}[{index}]: this study has no {noun} {row['id']} "
                    "(or two rows name it)."
                }
            )
        matched[index] = found
    for index, values in enumerate(wanted):
        if matched[index] is None:
            same = next(
                (r for r in by_id.values() if all(getattr(r, k) == v for k, v in values.items())),
                None,
            )
            if same is not None:
                matched[index] = by_id.pop(same.pk)
    left = list(by_id.values())
    positional = set()
    if all(row.get("id") is None for row in rows):
        for index in range(len(rows)):
            if matched[index] is None and left:
                matched[index] = left.pop(0)
                positional.add(index)
    return matched, left, positional


def _sync_outcomes(study: Study, rows: list[dict], *, results_given: bool) -> None:
    """The study's outcomes as ``rows`` give them, in that order (matched by ``_match_rows``);
    stored outcomes left unmatched are deleted, with their per-arm results.

    Per-arm results hang on the stored outcome, so matching by position is refused for an
    outcome that has them, unless the caller gives the per-arm results too (the fixtures, a
    backup): without ids, dropping one row and changing another would move one outcome's
    results onto another, silently."""
    current = list(study.outcomes.order_by("order", "pk"))
    wanted = _given_values(Outcome, OUTCOME_FIELDS, rows, "outcomes", ("id",))
    matched, left, positional = _match_rows(current, rows, wanted, "outcomes", "outcome")
    if positional and not results_given:
        with_results = set(
            OutcomeArmResult.objects.filter(
                outcome__in=[matched[i] for i in positional]
            ).values_list("outcome_id", flat=True)
        )
        for index in sorted(positional):
            outcome = matched[index]
            if outcome.pk in with_results:
                raise ValidationError(
                    {
                        "outcomes": f"outcomes[{index}] would change outcome {outcome.pk} "
                        f"(“{outcome}”), which has per-arm results: give each changed row the "
                        "id of the outcome it changes (as the API shows it), so that no "
                        "outcome's results end up on another."
                    }
                )
    for index, values in enumerate(wanted):
        save_changes(matched[index] or Outcome(study=study), {**values, "order": index})
    for stale in left:
        stale.delete()


def _sync_provenance(study: Study, rows: list[dict]) -> None:
    """The study's provenance records as ``rows`` give them (matched by ``_match_rows``);
    records left unmatched are deleted.

    A record's verification (who checked it, and when) belongs to what it says: a stored
    record whose content a row changes loses it, unless the row gives it (a backup does)."""
    current = list(study.provenance.order_by("pk"))
    wanted = _given_values(
        Provenance, PROVENANCE_FIELDS, rows, "provenance", (*OPTIONAL_PROVENANCE_FIELDS, "id")
    )
    matched, left, _ = _match_rows(current, rows, wanted, "provenance", "provenance record")
    for index, values in enumerate(wanted):
        row, record = rows[index], matched[index] or Provenance(study=study)
        given = {
            name: _field_value(Provenance, name, row[name])
            for name in OPTIONAL_PROVENANCE_FIELDS
            if name in row
        }
        changed = any(getattr(record, k) != v for k, v in values.items())
        if record.pk is not None and changed and not given:
            given = dict(UNVERIFIED)
        save_changes(record, {**values, **given})
    for stale in left:
        stale.delete()


def _field_value(model, name: str, value):
    """JSON gives datetimes as ISO 8601 text."""
    if value and isinstance(model._meta.get_field(name), models.DateTimeField):
        parsed = parse_datetime(value)
        if parsed is None:
            raise StudyDataError(f"{name}: '{value}' is not an ISO 8601 date and time")
        return parsed
    return value


def _default(name: str):
    if name in {"data_availability", "has_result_data", "safety_signal"}:
        return Study._meta.get_field(name).get_default()
    return (
        None
        if name in {"sample_size", "refractory", "primary_endpoint_met", "level_override"}
        else ""
    )


def _sync_rows(study, model, related: str, names, rows: list[dict]) -> None:
    """Ordered rows matched by position (arms: their per-arm results come with them and are
    written again by arm label just after)."""
    current = list(getattr(study, related).order_by("pk"))
    for index, values in enumerate(_given_values(model, names, rows, related)):
        instance = current[index] if index < len(current) else model(study=study)
        save_changes(instance, {**values, "order": index})
    for extra in current[len(rows) :]:
        extra.delete()
