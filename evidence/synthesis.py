"""The synthesis engine: certainty, direction, trials and patients of a body of evidence.

Pure functions on plain data (``StudyFacts``), so that every rule is unit-tested without a
database; ``evidence.selectors`` reads the facts in a fixed number of queries and memoizes
the result per content generation.

The rules (GRADE approach, as the about page explains them in plain words):

* Only a therapy a study TESTS is rated for that study: a background or comparator therapy
  (e.g. prednisone given to everyone in the azathioprine trial) is listed, never rated. A study
  without recorded arms counts its therapies as tested (the fixtures give every study arms; the
  fallback keeps studies entered before arms existed visible).
* A study without result data (title only, or no result seen) is listed and counted, but sets
  neither certainty, direction nor best level. Nor does a study whose result is "not
  applicable" (e.g. a predictor analysis): it has no efficacy finding.
* A safety signal (a report of the drug inducing or worsening myositis) is counted apart. A
  flagged study whose finding is harm is safety evidence only; a flagged study with another
  finding also counts for efficacy. An unflagged "harm" finding (worse than control in a trial)
  is efficacy evidence of harm. An outcome that measures harm (adverse events) is listed per
  study but given no efficacy certainty or direction: a study's result says nothing of it.
* Publications of one trial are one trial: its patients count once (the largest n among its
  publications, or the reported number of patients with the subtype, where known). A study
  without a trial is its own trial; guidelines, reviews and laboratory studies are no trial and
  add no patients. A study covering several subtypes with no split reported is
  a mixed population: its whole n is shown as such. A study whose reported split leaves the
  subtype out adds no number for it (its n is other subtypes' patients): a trial without size.
* Certainty starts from the best design with data: randomised high, observational low, case
  series and reports very low; guidelines, reviews and laboratory studies are not rated.
  It is rated down one step each for risk of bias, inconsistency, indirectness, imprecision
  (two steps under 50 patients) and publication bias, never below very low. It is never rated
  up automatically: the GRADE reasons for rating up (large effect, dose-response, confounding)
  need a curator's judgement, given as an override with its reason.
* The direction comes from the studies of that best design; if they disagree it is
  "conflicting" (never a silent tie-break).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from evidence.choices import (
    Blinding,
    Certainty,
    CertaintyReason,
    Direction,
    OutcomeMeasure,
    ResultDirection,
    StudyDesign,
)

# Certainty levels as numbers, to step down; 0 is "insufficient".
LEVELS = {
    4: Certainty.HIGH,
    3: Certainty.MODERATE,
    2: Certainty.LOW,
    1: Certainty.VERY_LOW,
    0: Certainty.INSUFFICIENT,
}
RANK = {code: level for level, code in LEVELS.items()}

CASE_DESIGNS = {StudyDesign.CASE_SERIES, StudyDesign.CASE_REPORT}
NOT_RATED_DESIGNS = {StudyDesign.GUIDELINE, StudyDesign.SYSTEMATIC_REVIEW, StudyDesign.MECHANISTIC}
# Outcomes that stand in for what patients feel (muscle enzymes, laboratory markers).
SURROGATE_MEASURES = {OutcomeMeasure.CK, OutcomeMeasure.BIOMARKER}
# Outcomes that measure harm: a study's result (benefit, no benefit...) is about efficacy and
# says nothing of them, so their synthesis gives no efficacy certainty or direction.
SAFETY_MEASURES = {OutcomeMeasure.ADVERSE_EVENTS}
# Fewer patients than this in the rated evidence: imprecise (the GRADE optimal information
# size for a binary outcome is in the hundreds; 100 is a deliberately lenient threshold for
# rare diseases, stated on the about page).
FEW_PATIENTS = 100
# Fewer than this: very serious imprecision, two steps (GRADE allows two for one domain).
VERY_FEW_PATIENTS = 50
KEY_STUDIES = 5

STUDY_DIRECTION = {
    ResultDirection.BENEFIT: Direction.BENEFIT,
    ResultDirection.NO_SIGNIFICANT_BENEFIT: Direction.NO_BENEFIT,
    ResultDirection.HARM: Direction.HARM,
    ResultDirection.MIXED: Direction.UNCERTAIN,
}
DEFINITE = {Direction.BENEFIT, Direction.NO_BENEFIT, Direction.HARM}


@dataclass(frozen=True)
class StudyFacts:
    """What the engine needs to know of one study."""

    pk: int
    label: str = ""
    design: str = StudyDesign.CASE_REPORT
    blinding: str = ""
    refractory: bool | None = None
    result: str = ResultDirection.BENEFIT
    level: int | None = None
    sample_size: int | None = None
    year: int | None = None
    trial: str = ""  # the trial's key; "" when the study stands alone
    has_data: bool = True
    safety_signal: bool = False
    subtypes: frozenset[int] = frozenset()
    subtype_counts: dict[int, int] = field(default_factory=dict, hash=False)
    tested: frozenset[int] = frozenset()
    background: frozenset[int] = frozenset()
    measures: frozenset[str] = frozenset()

    @property
    def trial_key(self) -> str:
        return self.trial or f"study-{self.pk}"

    @property
    def safety_only(self) -> bool:
        return self.safety_signal and self.result == ResultDirection.HARM

    @property
    def direction(self) -> str | None:
        return STUDY_DIRECTION.get(self.result)

    @property
    def rated(self) -> bool:
        """Whether the study can set certainty, direction and best level."""
        return (
            self.has_data
            and not self.safety_only
            and self.direction is not None
            and self.design not in NOT_RATED_DESIGNS
        )

    def mixed_for(self, subtype: int) -> bool:
        """Its patients with ``subtype`` are not reported apart (indirect evidence for it)."""
        return len(self.subtypes) > 1 and subtype not in self.subtype_counts

    def n_for(self, subtype: int) -> int | None:
        """Its patients with ``subtype``: the reported split, else its whole n; unknown when
        it reports a split that leaves the subtype out (its n is then other subtypes')."""
        if subtype in self.subtype_counts:
            return self.subtype_counts[subtype]
        return None if self.subtype_counts else self.sample_size


@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    def as_dict(self) -> dict:
        return {"code": self.code, "text": self.text}


@dataclass
class Override:
    certainty: str
    reason: str


@dataclass
class Synthesis:
    """The body of evidence for one therapy in one subtype (optionally one outcome)."""

    certainty: str = Certainty.INSUFFICIENT
    suggested_certainty: str = Certainty.INSUFFICIENT
    reasons: list[Reason] = field(default_factory=list)
    overridden: bool = False
    direction: str = Direction.UNCERTAIN
    studies: int = 0
    trials: int = 0
    patients: int | None = None
    patients_mixed_population: bool = False
    trials_without_size: int = 0
    studies_without_data: int = 0
    safety_signals: int = 0
    best_level: int | None = None
    key_studies: list[int] = field(default_factory=list)
    safety_studies: list[int] = field(default_factory=list)
    study_ids: list[int] = field(default_factory=list)
    results: Counter = field(default_factory=Counter)

    @property
    def reason_dicts(self) -> list[dict]:
        return [r.as_dict() for r in self.reasons]


def start_of(design: str) -> tuple[int, Reason] | None:
    """Where a design starts (None: not rated)."""
    if design in StudyDesign.randomised():
        return 4, Reason(
            CertaintyReason.START_RANDOMISED,
            "Randomised trials: the rating starts at high certainty.",
        )
    if design in CASE_DESIGNS:
        return 1, Reason(
            CertaintyReason.START_CASE_REPORTS,
            "Only case series or case reports: the rating starts at very low certainty.",
        )
    if design in NOT_RATED_DESIGNS:
        return None
    return 2, Reason(
        CertaintyReason.START_OBSERVATIONAL,
        "Non-randomised (observational or single-arm) studies: the rating starts at low certainty.",
    )


def patients(studies: Iterable[StudyFacts], subtype: int) -> tuple[int | None, bool, int, int]:
    """Deduplicated patients: (total or None, mixed population?, trials, trials without n).

    Per trial the largest n among its publications; the reported number with the subtype
    where any publication gives the split. A publication whose split leaves the subtype out
    gives no number for it: its n belongs to the subtypes it lists (the trial is then counted
    without a size, unless another publication gives one)."""
    by_trial: dict[str, list[StudyFacts]] = {}
    for study in studies:
        by_trial.setdefault(study.trial_key, []).append(study)
    total, known, mixed, unknown = 0, False, False, 0
    for publications in by_trial.values():
        split = [s.subtype_counts[subtype] for s in publications if subtype in s.subtype_counts]
        if split:
            total, known = total + max(split), True
            continue
        whole = [s for s in publications if s.sample_size is not None and not s.subtype_counts]
        if whole:
            total, known = total + max(s.sample_size for s in whole), True
            mixed = mixed or any(s.mixed_for(subtype) for s in whole)
        else:
            unknown += 1
    return (total if known else None), mixed, len(by_trial), unknown


def synthesise(
    studies: Iterable[StudyFacts],
    *,
    therapy: int,
    subtype: int,
    measure: str | None = None,
    override: Override | None = None,
) -> Synthesis:
    """The synthesis of the studies that test ``therapy`` in ``subtype`` (those measuring
    ``measure`` when given). Studies not testing the therapy in the subtype are ignored."""
    body = [
        s
        for s in studies
        if therapy in s.tested
        and subtype in s.subtypes
        and (measure is None or measure in s.measures)
    ]
    out = Synthesis(studies=len(body), study_ids=[s.pk for s in body])
    out.results = Counter(s.result for s in body)
    # Guidelines and reviews report other studies' patients, and laboratory studies none:
    # they are listed, but are not trials and add no patients (no double counting). Reports
    # that are safety evidence only (the drug inducing or worsening myositis) are counted as
    # safety signals, not as trials or patients of the efficacy evidence beside them.
    groups = [s for s in body if s.design not in NOT_RATED_DESIGNS and not s.safety_only]
    out.patients, out.patients_mixed_population, out.trials, out.trials_without_size = patients(
        groups, subtype
    )
    out.safety_studies = [s.pk for s in body if s.safety_signal]
    out.safety_signals = len(out.safety_studies)
    out.studies_without_data = sum(1 for s in body if not s.has_data)
    rated = [s for s in body if s.rated]
    levels = [s.level for s in rated if s.level is not None]
    out.best_level = min(levels) if levels else None
    _certainty(out, body, rated, subtype, measure)
    if override is not None:
        out.certainty, out.overridden = override.certainty, True
        set_to = Certainty(override.certainty).label.lower()
        suggested = Certainty(out.suggested_certainty).label.lower()
        out.reasons.insert(
            0,
            Reason(
                CertaintyReason.OVERRIDE,
                f"Set by a curator to {set_to} (suggested: {suggested}): {override.reason}",
            ),
        )
    return out


def _certainty(out: Synthesis, body, rated, subtype: int, measure: str | None) -> None:
    reasons = out.reasons
    if measure in SAFETY_MEASURES:
        reasons.append(
            Reason(
                CertaintyReason.SAFETY_OUTCOME,
                f"{OutcomeMeasure(measure).label} measure harm, not benefit: the results are "
                "listed per study; no efficacy certainty or direction is given for them.",
            )
        )
        return
    if out.studies_without_data:
        reasons.append(
            Reason(
                CertaintyReason.EXCLUDED_NO_DATA,
                f"{out.studies_without_data} stud"
                f"{'y' if out.studies_without_data == 1 else 'ies'} without result "
                "data (title only or no result seen): listed, not rated.",
            )
        )
    if not rated:
        reasons.append(
            Reason(
                CertaintyReason.NO_RESULT_DATA,
                "No study with an efficacy result: certainty cannot be rated.",
            )
        )
        return
    starts = {s.pk: start_of(s.design) for s in rated}
    top = max(start[0] for start in starts.values())
    tier = [s for s in rated if starts[s.pk][0] == top]
    reasons.append(next(starts[s.pk][1] for s in tier))
    lower = len(rated) - len(tier)
    if lower:
        reasons.append(
            Reason(
                CertaintyReason.LOWER_TIER,
                f"{lower} stud{'y' if lower == 1 else 'ies'} of weaker design "
                "listed; the rating and direction rest on the best design.",
            )
        )
    level = top

    def down(code: str, text: str) -> None:
        nonlocal level
        floor = " Already at very low: no further step." if level <= 1 else ""
        level = max(1, level - 1)
        reasons.append(Reason(code, text + floor))

    directions = {s.direction for s in tier} & DEFINITE
    if top > 1:
        unblinded = [s for s in tier if s.blinding not in (Blinding.SINGLE, Blinding.DOUBLE)]
        if unblinded:
            how = (
                "open-label"
                if all(s.blinding == Blinding.OPEN for s in unblinded)
                else "open-label or without stated blinding"
            )
            down(
                CertaintyReason.RISK_OF_BIAS,
                f"Risk of bias: {len(unblinded)} of {len(tier)} stud"
                f"{'y' if len(tier) == 1 else 'ies'} {how}.",
            )
    if len(directions) > 1:
        down(
            CertaintyReason.INCONSISTENCY,
            "Inconsistency: the studies disagree ("
            + ", ".join(sorted(Direction(d).label.lower() for d in directions))
            + ").",
        )
    indirect = []
    if any(s.mixed_for(subtype) for s in tier):
        indirect.append("a mixed population (several subtypes, no split reported)")
    if any(s.refractory for s in tier):
        indirect.append("refractory patients only")
    if measure in SURROGATE_MEASURES:
        indirect.append(f"a surrogate outcome ({OutcomeMeasure(measure).label})")
    elif measure is None and all(s.measures and s.measures <= SURROGATE_MEASURES for s in tier):
        indirect.append("surrogate outcomes only (muscle enzymes, biomarkers)")
    if indirect:
        down(CertaintyReason.INDIRECTNESS, "Indirectness: " + "; ".join(indirect) + ".")
    n, _, trials, _ = patients(tier, subtype)
    if n is None or n < FEW_PATIENTS:
        size = "patient numbers not reported" if n is None else f"{n} patients"
        single = "a single trial" if trials == 1 else f"{trials} trials"
        very = n is None or n < VERY_FEW_PATIENTS
        text = (
            f"Imprecision: {single}, {size} (fewer than "
            f"{VERY_FEW_PATIENTS if very else FEW_PATIENTS}"
        )
        if very:
            down(CertaintyReason.IMPRECISION, text + "; very serious, two steps).")
            level = max(1, level - 1)
        else:
            down(CertaintyReason.IMPRECISION, text + ").")
    if top == 1 and directions == {Direction.BENEFIT}:
        down(
            CertaintyReason.PUBLICATION_BIAS,
            "Publication bias suspected: only case reports or series, all reporting benefit.",
        )
    # A result curated as mixed (neither a benefit nor no benefit) gives no direction of its
    # own. Said, not dropped silently: with no definite result beside it the direction is
    # uncertain; beside one, the direction rests on the others. No step down for it (GRADE's
    # inconsistency is between studies' effects, not within one study).
    mixed = [s for s in tier if s.result == ResultDirection.MIXED]
    if mixed:
        others = "others" if len(tier) - len(mixed) > 1 else "other"
        which = (
            "the best-design study reports"
            if len(tier) == 1
            else f"{len(mixed)} of {len(tier)} best-design studies report"
        )
        reasons.append(
            Reason(
                CertaintyReason.MIXED_RESULT,
                f"Direction: {which} a mixed result (neither a benefit nor no benefit)"
                + (
                    f"; the direction rests on the {others}."
                    if directions
                    else ", so the direction is uncertain."
                ),
            )
        )
    out.suggested_certainty = out.certainty = LEVELS[level]
    if len(directions) > 1:
        out.direction = Direction.CONFLICTING
    elif directions:
        out.direction = directions.pop()
    tier.sort(key=lambda s: (s.level or 9, -(s.n_for(subtype) or 0), s.pk))
    out.key_studies = [s.pk for s in tier[:KEY_STUDIES]]


def certainty_rank(synthesis: Synthesis) -> int:
    """For ranking: certainty of benefit first (4 high ... 0 none)."""
    return RANK[synthesis.certainty] if synthesis.direction == Direction.BENEFIT else 0
