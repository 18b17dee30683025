"""Suggested Oxford CEBM 2011 levels for each design, and the override rules."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from evidence.choices import StudyDesign
from evidence.levels import effective_level, suggested_level
from evidence.models import Study
from references.models import Reference

# The CEBM 2011 'treatment benefits' row (DOMAIN.md), design by design.
EXPECTED = {
    "systematic_review": 1,
    "rct_parallel": 2,
    "rct_crossover": 2,
    "rct_placebo_phase": 2,
    "nonrandomised_controlled": 3,
    "prospective_cohort": 3,
    "open_label_single_arm": 4,
    "retrospective_cohort": 4,
    "case_control": 4,
    "case_series": 4,
    "case_report": 4,
    "guideline": None,  # not primary evidence: not graded
    "mechanistic": 5,
}


def test_every_design_has_an_expected_level():
    assert set(EXPECTED) == set(StudyDesign.values)


@pytest.mark.parametrize("design,level", EXPECTED.items())
def test_suggested_level_for_each_design(design, level):
    assert suggested_level(design) == level
    assert effective_level(design, None) == level


def test_override_wins():
    assert effective_level("case_report", 5) == 5


@pytest.mark.django_db
def test_saved_study_stores_the_effective_level_and_explains_it():
    study = Study.objects.get(key="ref01-rim-trial")
    assert study.level == 2 and study.suggested_level == 2
    assert "Suggested by the design" in study.level_reason
    study.level_override, study.level_override_reason = 3, "small and imprecise"
    study.save()
    study.refresh_from_db()
    assert study.level == 3
    assert study.level_reason == "Set by a curator: small and imprecise"


@pytest.mark.django_db
def test_override_without_reason_is_refused_by_form_validation_and_database():
    study = Study(
        key="x",
        reference=Reference.objects.get(number=1),
        label="x",
        design="case_report",
        result="benefit",
        summary="s",
        level_override=5,
    )
    with pytest.raises(ValidationError) as info:
        study.full_clean()
    assert "Give the reason" in str(info.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        study.save()
