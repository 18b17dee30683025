"""The synthesis engine (evidence.synthesis): each rule pinned on synthetic data and on a case
from the real corpus."""

import pytest

from evidence.choices import Certainty, CertaintyReason, Direction
from evidence.models import CertaintyOverride, DiseaseSubtype, Study
from evidence.selectors import evidence_cutoff, evidence_matrix, summary_of_findings
from evidence.synthesis import Override, StudyFacts, patients, synthesise
from references.models import Reference
from therapies.models import Therapy

DRUG, OTHER, DM, PM, ASS = 1, 2, 10, 11, 12


def fact(pk, **kw) -> StudyFacts:
    defaults = {
        "design": "rct_parallel",
        "blinding": "double",
        "result": "benefit",
        "level": 2,
        "sample_size": 300,
        "subtypes": frozenset({DM}),
        "tested": frozenset({DRUG}),
        "measures": frozenset({"mmt8"}),
    }
    return StudyFacts(pk=pk, **{**defaults, **kw})


def codes(synthesis) -> list[str]:
    return [r.code for r in synthesis.reasons]


# --- one trial counted once ------------------------------------------------------------------


def test_publications_of_one_trial_count_its_patients_once():
    primary = fact(1, trial="rim", sample_size=200)
    secondary = fact(2, trial="rim", sample_size=195, design="prospective_cohort")
    other = fact(3, sample_size=7)
    s = synthesise([primary, secondary, other], therapy=DRUG, subtype=DM)
    assert (s.studies, s.trials, s.patients) == (3, 2, 207)


def test_the_subtype_split_is_used_where_reported_and_mixed_flagged_where_not():
    split = fact(
        1, trial="t", subtypes=frozenset({DM, PM}), subtype_counts={DM: 76, PM: 76}, sample_size=200
    )
    assert patients([split], DM) == (76, False, 1, 0)
    mixed = fact(2, subtypes=frozenset({DM, PM}), sample_size=39)
    assert patients([mixed], DM) == (39, True, 1, 0)
    assert patients([fact(3, sample_size=None)], DM) == (None, False, 1, 1)
    # A later publication of the same trial without the split adds neither a trial nor its n.
    extension = fact(
        4, trial="t", design="prospective_cohort", result="not_applicable", sample_size=180
    )
    s = synthesise([split, extension], therapy=DRUG, subtype=DM)
    assert s.trials == 1 and s.patients == 76


def test_a_split_that_leaves_the_subtype_out_gives_it_no_number():
    split_elsewhere = fact(
        1,
        design="prospective_cohort",
        sample_size=195,
        subtypes=frozenset({DM, PM, ASS}),
        subtype_counts={DM: 100, PM: 95},
    )
    out = synthesise([split_elsewhere], therapy=DRUG, subtype=ASS)
    # 195 patients were all counted in DM and PM: not 195 antisynthetase patients.
    assert (out.patients, out.trials, out.trials_without_size) == (None, 1, 1)
    # In the subtypes of its split, its numbers; without any split, its whole n (mixed).
    assert synthesise([split_elsewhere], therapy=DRUG, subtype=DM).patients == 100
    no_split = fact(1, sample_size=195, subtypes=frozenset({DM, PM, ASS}))
    whole = synthesise([no_split], therapy=DRUG, subtype=ASS)
    assert (whole.patients, whole.patients_mixed_population) == (195, True)


@pytest.mark.django_db
def test_rim_trial_and_its_secondary_analysis_are_one_trial_in_the_corpus():
    """Issue 13: rituximab x DM showed 410 patients (200 + 195 + ...). The RIM trial counts
    once, with its 76 DM patients; the two DM pilots add 7 and 8."""
    cell = rituximab_dm()
    assert Study.objects.get(key="ref19-rim-predictors-of-response").trial.key == "rim"
    assert cell.studies == 4 and cell.trials == 3
    assert cell.patients == 76 + 7 + 8
    assert not cell.synthesis.patients_mixed_population


def rituximab_dm():
    matrix = evidence_matrix(Study.objects.published())
    therapy, subtype = Therapy.objects.get(slug="rituximab"), DiseaseSubtype.objects.get(code="dm")
    return matrix.cells[(therapy.pk, subtype.pk)]


# --- only tested therapies are rated ---------------------------------------------------------


def test_a_background_therapy_is_not_rated():
    add_on = fact(1, tested=frozenset({OTHER}), background=frozenset({DRUG}), result="benefit")
    s = synthesise([add_on], therapy=DRUG, subtype=DM)
    assert s.studies == 0 and s.certainty == Certainty.INSUFFICIENT
    assert synthesise([add_on], therapy=OTHER, subtype=DM).studies == 1


@pytest.mark.django_db
def test_glucocorticoids_in_pm_get_nothing_from_the_azathioprine_trial():
    """Every patient of ref 2 got prednisone as background: no 'Level 2, no benefit' cell."""
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    roles = {arm.therapy.slug: arm.role for arm in study.arms.all() if arm.therapy}
    assert roles == {"azathioprine": "tested", "glucocorticoids": "background"}
    glucocorticoids = Therapy.objects.get(slug="glucocorticoids")
    pm = DiseaseSubtype.objects.get(code="pm")
    matrix = evidence_matrix(Study.objects.published())
    assert (glucocorticoids.pk, pm.pk) not in matrix.cells
    summary = summary_of_findings(Study.objects.published(), glucocorticoids, pm)
    assert summary.synthesis.certainty == Certainty.INSUFFICIENT
    # ... nor from the RIM trial, where glucocorticoids were background therapy too.
    rim = Study.objects.get(key="ref01-rim-trial")
    assert {row.pk for row in summary.background} == {study.pk, rim.pk}


# --- safety apart from efficacy --------------------------------------------------------------


def test_harm_reports_are_safety_signals_never_the_direction():
    trial = fact(1, result="benefit")
    reports = [
        fact(n, design="case_report", result="harm", safety_signal=True, level=4, sample_size=1)
        for n in (2, 3, 4)
    ]
    s = synthesise([trial, *reports], therapy=DRUG, subtype=DM)
    assert s.direction == Direction.BENEFIT
    assert s.safety_signals == 3 and s.safety_studies == [2, 3, 4]
    assert s.key_studies == [1]
    alone = synthesise(reports, therapy=DRUG, subtype=DM)
    assert alone.safety_signals == 3 and alone.trials == 0 and alone.patients is None
    assert alone.certainty == Certainty.INSUFFICIENT and alone.direction == Direction.UNCERTAIN


def test_an_outcome_measuring_harm_is_not_rated_as_efficacy():
    rct = fact(1, sample_size=200, measures=frozenset({"adverse_events", "mmt8"}))
    out = synthesise([rct], therapy=DRUG, subtype=DM, measure="adverse_events")
    # Not "benefit on adverse events" from an efficacy result: listed, counted, not rated.
    assert (out.direction, out.certainty) == (Direction.UNCERTAIN, Certainty.INSUFFICIENT)
    assert codes(out) == [CertaintyReason.SAFETY_OUTCOME]
    assert (out.studies, out.patients) == (1, 200)
    efficacy = synthesise([rct], therapy=DRUG, subtype=DM, measure="mmt8")
    assert (efficacy.direction, efficacy.certainty) == (Direction.BENEFIT, Certainty.HIGH)


def test_an_unflagged_harm_finding_in_a_trial_is_efficacy_harm():
    s = synthesise([fact(1, result="harm")], therapy=DRUG, subtype=DM)
    assert s.direction == Direction.HARM and s.safety_signals == 0


@pytest.mark.django_db
def test_tnf_inhibitor_case_reports_do_not_make_etanercept_in_dm_harm():
    etanercept = Therapy.objects.get(slug="etanercept")
    dm = DiseaseSubtype.objects.get(code="dm")
    cell = evidence_matrix(Study.objects.published()).cells[(etanercept.pk, dm.pk)]
    assert cell.direction == Direction.BENEFIT  # the randomised pilot (ref 31)
    assert cell.safety_signals == 2  # refs 30 and 41
    assert cell.dominant_result == "benefit" or cell.results["harm"] == 2
    # The harm reports' patients are not counted as efficacy evidence: the pilot RCT (16) and
    # the retrospective cohort of 8 (DM and PM, no split: a mixed population).
    assert (cell.synthesis.trials, cell.patients, cell.synthesis.patients_mixed_population) == (
        2,
        24,
        True,
    )


@pytest.mark.django_db
def test_the_infliximab_open_pilot_is_no_benefit_plus_a_safety_signal():
    """Dastmalchi 2008 (ref 37): few improved and some flared. Its efficacy reading is 'no
    benefit', its flares are a safety signal; the IBM cell is not an efficacy 'harm'."""
    infliximab = Therapy.objects.get(slug="infliximab")
    ibm = DiseaseSubtype.objects.get(code="ibm")
    cell = evidence_matrix(Study.objects.published()).cells[(infliximab.pk, ibm.pk)]
    assert cell.direction == Direction.NO_BENEFIT and cell.safety_signals == 1


# --- studies without result data -------------------------------------------------------------


def test_title_only_studies_are_listed_but_not_rated():
    unseen = fact(1, has_data=False, level=2)
    report = fact(2, design="case_report", level=4, sample_size=1)
    s = synthesise([unseen, report], therapy=DRUG, subtype=DM)
    assert s.studies == 2 and s.studies_without_data == 1
    assert s.best_level == 4 and s.certainty == Certainty.VERY_LOW
    assert codes(s)[:2] == [CertaintyReason.EXCLUDED_NO_DATA, CertaintyReason.START_CASE_REPORTS]
    only_unseen = synthesise([unseen], therapy=DRUG, subtype=DM)
    assert only_unseen.certainty == Certainty.INSUFFICIENT and only_unseen.best_level is None
    # Nor do a harm without data or a result that is not applicable (no efficacy finding).
    unseen_harm = fact(3, has_data=False, result="harm", sample_size=500)
    predictor = fact(4, result="not_applicable", sample_size=500)
    s = synthesise([unseen_harm, predictor, report], therapy=DRUG, subtype=DM)
    assert s.direction == Direction.BENEFIT and s.certainty == Certainty.VERY_LOW
    assert s.key_studies == [2]


@pytest.mark.django_db
def test_a_title_only_abstract_does_not_set_infliximabs_best_level_in_dm():
    infliximab = Therapy.objects.get(slug="infliximab")
    dm = DiseaseSubtype.objects.get(code="dm")
    unseen = Study.objects.get(key="ref38-coyle-infliximab-rct-abstract")
    assert not unseen.has_data and unseen.level == 2
    cell = evidence_matrix(Study.objects.published()).cells[(infliximab.pk, dm.pk)]
    assert cell.best_level != 2
    assert CertaintyReason.EXCLUDED_NO_DATA in codes(cell.synthesis)
    assert unseen.pk not in cell.synthesis.key_studies


# --- conflicting evidence --------------------------------------------------------------------


def test_disagreement_at_the_same_certainty_is_conflicting():
    s = synthesise(
        [fact(1, result="benefit"), fact(2, result="no_significant_benefit")],
        therapy=DRUG,
        subtype=DM,
    )
    assert s.direction == Direction.CONFLICTING
    assert CertaintyReason.INCONSISTENCY in codes(s)
    assert s.certainty == Certainty.MODERATE  # one step down from two blinded trials


def test_weaker_designs_do_not_overrule_the_best_one():
    s = synthesise(
        [
            fact(1, result="no_significant_benefit"),
            fact(2, design="case_series", result="benefit", level=4),
        ],
        therapy=DRUG,
        subtype=DM,
    )
    assert s.direction == Direction.NO_BENEFIT
    assert CertaintyReason.LOWER_TIER in codes(s)
    assert CertaintyReason.INCONSISTENCY not in codes(s)


def test_a_mixed_result_is_said_and_changes_no_rating():
    mixed = synthesise([fact(1, result="mixed")], therapy=DRUG, subtype=DM)
    clear = synthesise([fact(1, result="benefit")], therapy=DRUG, subtype=DM)
    assert mixed.direction == Direction.UNCERTAIN
    [reason] = [r for r in mixed.reasons if r.code == CertaintyReason.MIXED_RESULT]
    assert reason.text == (
        "Direction: the best-design study reports a mixed result (neither a benefit nor no "
        "benefit), so the direction is uncertain."
    )
    assert mixed.certainty == clear.certainty == Certainty.HIGH
    assert CertaintyReason.MIXED_RESULT not in codes(clear)


def test_a_mixed_result_beside_a_clear_one_is_said_not_dropped():
    beside = synthesise(
        [fact(1, result="benefit"), fact(2, result="mixed")], therapy=DRUG, subtype=DM
    )
    both = synthesise(
        [fact(1, result="benefit"), fact(2, result="benefit")], therapy=DRUG, subtype=DM
    )
    assert beside.direction == Direction.BENEFIT
    [reason] = [r for r in beside.reasons if r.code == CertaintyReason.MIXED_RESULT]
    assert reason.text.startswith("Direction: 1 of 2 best-design studies report a mixed result")
    assert reason.text.endswith("; the direction rests on the other.")
    assert CertaintyReason.INCONSISTENCY not in codes(beside)
    assert beside.certainty == both.certainty
    # A mixed result among weaker designs is not the direction's business: not said.
    weaker = synthesise(
        [fact(1), fact(2, design="case_series", result="mixed", level=4)],
        therapy=DRUG,
        subtype=DM,
    )
    assert CertaintyReason.MIXED_RESULT not in codes(weaker)


@pytest.mark.django_db
def test_ivig_in_dm_is_conflicting_in_the_corpus():
    """Refs 3 (benefit, DM) and 26 (no significant benefit, PM and DM): both randomised."""
    ivig = Therapy.objects.get(slug="ivig")
    dm = DiseaseSubtype.objects.get(code="dm")
    cell = evidence_matrix(Study.objects.published()).cells[(ivig.pk, dm.pk)]
    assert cell.direction == Direction.CONFLICTING
    assert cell.dominant_result is not None  # superseded, still served


# --- the certainty suggestion ----------------------------------------------------------------


@pytest.mark.parametrize(
    "design, expected, start",
    [
        ("rct_parallel", Certainty.HIGH, CertaintyReason.START_RANDOMISED),
        ("rct_crossover", Certainty.HIGH, CertaintyReason.START_RANDOMISED),
        ("rct_placebo_phase", Certainty.HIGH, CertaintyReason.START_RANDOMISED),
        ("prospective_cohort", Certainty.LOW, CertaintyReason.START_OBSERVATIONAL),
        ("retrospective_cohort", Certainty.LOW, CertaintyReason.START_OBSERVATIONAL),
        ("nonrandomised_controlled", Certainty.LOW, CertaintyReason.START_OBSERVATIONAL),
        ("open_label_single_arm", Certainty.LOW, CertaintyReason.START_OBSERVATIONAL),
        ("case_control", Certainty.LOW, CertaintyReason.START_OBSERVATIONAL),
        ("case_series", Certainty.VERY_LOW, CertaintyReason.START_CASE_REPORTS),
        ("case_report", Certainty.VERY_LOW, CertaintyReason.START_CASE_REPORTS),
    ],
)
def test_where_each_design_starts(design, expected, start):
    # Blinded, 300 patients of one subtype, not refractory, a clinical outcome; case reports
    # are rated down for publication bias, which cannot go below very low.
    s = synthesise(
        [fact(1, design=design, result="no_significant_benefit")], therapy=DRUG, subtype=DM
    )
    assert s.certainty == expected
    assert codes(s) == [start]


@pytest.mark.parametrize("design", ["guideline", "systematic_review", "mechanistic"])
def test_guidelines_reviews_and_laboratory_studies_are_not_rated(design):
    s = synthesise([fact(1, design=design)], therapy=DRUG, subtype=DM)
    assert s.certainty == Certainty.INSUFFICIENT and s.studies == 1
    # Nor are they trials: a review's patients are its trials' patients (counted once).
    assert s.trials == 0 and s.patients is None


@pytest.mark.parametrize(
    "change, reason, expected",
    [
        ({"blinding": "open"}, CertaintyReason.RISK_OF_BIAS, Certainty.MODERATE),
        ({"blinding": ""}, CertaintyReason.RISK_OF_BIAS, Certainty.MODERATE),
        ({"refractory": True}, CertaintyReason.INDIRECTNESS, Certainty.MODERATE),
        ({"subtypes": frozenset({DM, PM})}, CertaintyReason.INDIRECTNESS, Certainty.MODERATE),
        ({"measures": frozenset({"ck"})}, CertaintyReason.INDIRECTNESS, Certainty.MODERATE),
        ({"sample_size": 80}, CertaintyReason.IMPRECISION, Certainty.MODERATE),
        ({"sample_size": 30}, CertaintyReason.IMPRECISION, Certainty.LOW),
        ({"sample_size": None}, CertaintyReason.IMPRECISION, Certainty.LOW),
    ],
)
def test_each_rating_down_rule(change, reason, expected):
    s = synthesise([fact(1, **change)], therapy=DRUG, subtype=DM)
    assert codes(s) == [CertaintyReason.START_RANDOMISED, reason]
    assert s.certainty == expected
    assert all(r.text for r in s.reasons)


def test_inconsistency_rates_down_one_step():
    s = synthesise([fact(1), fact(2, result="no_significant_benefit")], therapy=DRUG, subtype=DM)
    assert codes(s) == [CertaintyReason.START_RANDOMISED, CertaintyReason.INCONSISTENCY]
    assert s.certainty == Certainty.MODERATE


def test_publication_bias_only_case_reports_all_positive():
    reports = [fact(n, design="case_report", level=4, sample_size=200) for n in (1, 2)]
    s = synthesise(reports, therapy=DRUG, subtype=DM)
    assert CertaintyReason.PUBLICATION_BIAS in codes(s)
    assert "Already at very low" in s.reasons[-1].text
    mixed = synthesise(
        [
            *reports,
            fact(
                3, design="case_report", level=4, sample_size=200, result="no_significant_benefit"
            ),
        ],
        therapy=DRUG,
        subtype=DM,
    )
    assert CertaintyReason.PUBLICATION_BIAS not in codes(mixed)


def test_a_surrogate_outcome_is_indirect_when_rated_per_outcome():
    both = fact(1, measures=frozenset({"ck", "mmt8"}))
    assert codes(synthesise([both], therapy=DRUG, subtype=DM)) == [CertaintyReason.START_RANDOMISED]
    per_ck = synthesise([both], therapy=DRUG, subtype=DM, measure="ck")
    assert CertaintyReason.INDIRECTNESS in codes(per_ck)


def test_never_rated_up_automatically():
    big = fact(1, design="retrospective_cohort", sample_size=5000, blinding="double")
    assert synthesise([big], therapy=DRUG, subtype=DM).certainty == Certainty.LOW


@pytest.mark.django_db
def test_rituximab_in_dm_rests_on_the_rim_trial_with_its_reasons():
    cell = rituximab_dm()
    assert cell.certainty == Certainty.LOW
    assert codes(cell.synthesis) == [
        CertaintyReason.START_RANDOMISED,
        CertaintyReason.LOWER_TIER,
        CertaintyReason.INDIRECTNESS,
        CertaintyReason.IMPRECISION,
        # The RIM trial is curated as mixed: why the direction is uncertain, said.
        CertaintyReason.MIXED_RESULT,
    ]
    assert cell.synthesis.direction == Direction.UNCERTAIN
    assert cell.synthesis.key_studies == [Study.objects.get(key="ref01-rim-trial").pk]


# --- the curator's override ------------------------------------------------------------------


def test_an_override_replaces_the_suggestion_and_shows_its_reason():
    s = synthesise(
        [fact(1, sample_size=30)],
        therapy=DRUG,
        subtype=DM,
        override=Override(certainty=Certainty.MODERATE, reason="Because."),
    )
    assert s.certainty == Certainty.MODERATE and s.suggested_certainty == Certainty.LOW
    assert s.overridden and s.reasons[0].code == CertaintyReason.OVERRIDE
    assert s.reasons[0].text.endswith("Because.") and "suggested: low" in s.reasons[0].text


@pytest.mark.django_db
def test_the_corpus_override_of_rituximab_in_jdm(client):
    rituximab = Therapy.objects.get(slug="rituximab")
    jdm = DiseaseSubtype.objects.get(code="jdm")
    override = CertaintyOverride.objects.get(therapy=rituximab, subtype=jdm)
    cell = evidence_matrix(Study.objects.published()).cells[(rituximab.pk, jdm.pk)]
    assert cell.certainty == Certainty.LOW
    assert cell.synthesis.suggested_certainty == Certainty.VERY_LOW
    html = client.get("/therapies/rituximab/juvenile-dermatomyositis/").content.decode()
    assert "set by a curator" in html and override.reason[:60] in html


@pytest.mark.django_db
def test_an_unpublished_override_does_not_apply():
    rituximab = Therapy.objects.get(slug="rituximab")
    jdm = DiseaseSubtype.objects.get(code="jdm")
    CertaintyOverride.objects.filter(therapy=rituximab, subtype=jdm).update(status="draft")
    cell = evidence_matrix(Study.objects.published()).cells[(rituximab.pk, jdm.pk)]
    assert cell.certainty == Certainty.VERY_LOW and not cell.synthesis.overridden


@pytest.mark.django_db
def test_an_override_needs_a_reason():
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    therapy, subtype = Therapy.objects.get(slug="ivig"), DiseaseSubtype.objects.get(code="dm")
    with pytest.raises(ValidationError, match="reason"):
        CertaintyOverride(
            therapy=therapy, subtype=subtype, certainty="low", reason="  "
        ).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        CertaintyOverride.objects.create(
            therapy=therapy, subtype=subtype, certainty="low", reason=""
        )


# --- the cut-off -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cutoff_is_the_newest_reference_and_the_review_year():
    cutoff = evidence_cutoff()
    newest = max(
        Reference.objects.exclude(role="source_review")
        .exclude(year=None)
        .values_list("year", flat=True)
    )
    assert cutoff.newest_year == newest and cutoff.review_year == 2017
    assert cutoff.iso == str(newest)
    assert cutoff.sentence.startswith(
        f"Evidence up to {newest}; trials published later are not included."
    )
