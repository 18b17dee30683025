"""Reads built from several queries: the study table's rows."""

import pytest
from django.db.models import Q

from evidence.models import Study
from evidence.selectors import study_rows

pytestmark = pytest.mark.django_db


def test_study_rows_say_what_the_studies_say_in_the_same_order(django_assert_num_queries):
    studies = Study.objects.published().for_detail()
    expected = list(studies)
    with django_assert_num_queries(3):
        rows = study_rows(Study.objects.published())
    assert [row.pk for row in rows] == [study.pk for study in expected]
    for row, study in zip(rows, expected, strict=True):
        assert (row.label, row.design, row.sample_size, row.result, row.level) == (
            study.label,
            study.design,
            study.sample_size,
            study.result,
            study.level,
        )
        assert (row.reference_id, row.first_author, row.reference_number, row.year) == (
            study.reference_id,
            study.reference.first_author,
            study.reference.number,
            study.reference.year,
        )
        assert list(row.therapies) == [t.name for t in study.therapies.all()]
        assert [(s.name, s.short) for s in row.subtypes] == [
            (s.name, s.abbreviation or s.code) for s in study.subtypes.all()
        ]
        assert row.get_absolute_url() == study.get_absolute_url()
        assert row.get_design_display() == study.get_design_display()
    assert any(len(row.therapies) > 1 for row in rows)  # combinations are kept whole


def test_study_rows_of_nothing_run_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert study_rows(Study.objects.none()) == []


def test_matrix_cells_match_a_count_of_each_cell(django_assert_max_num_queries):
    """Each cell counts the studies that test the therapy in the subtype; patients are
    counted once per trial (a study without a trial is its own), so never more than the
    plain sum; the best level comes only from studies with result data."""
    from collections import Counter

    from evidence.selectors import evidence_matrix
    from tests.factories import make_studies

    make_studies(60)  # many studies per cell, some without a level
    published = Study.objects.published()
    # Six queries of study facts, the overrides and the two axes, whatever the size; with the
    # data cache on (MYOEVIDENCE_TEST_CACHES=on) one more reads the content generation.
    with django_assert_max_num_queries(9 + 1):
        matrix = evidence_matrix(published)
    assert matrix.cells
    for (therapy_id, subtype_id), cell in matrix.cells.items():
        in_cell = (
            published.filter(subtypes=subtype_id)
            .filter(
                Q(arms__therapy=therapy_id, arms__role="tested")
                | Q(arms__isnull=True, therapies=therapy_id)
            )
            .distinct()
        )
        assert cell.studies == in_cell.count()
        assert cell.results == Counter(in_cell.values_list("result", flat=True))

        def n_of(study, subtype_id=subtype_id):
            split = study.subtype_counts.filter(subtype=subtype_id).first()
            return split.n if split else (study.sample_size or 0)

        assert (cell.patients or 0) <= sum(n_of(s) for s in in_cell)
        rated_levels = [
            s.level
            for s in in_cell
            if s.level is not None
            and s.has_data
            and s.result not in ("not_applicable",)
            and not (s.safety_signal and s.result == "harm")
            and s.design not in ("guideline", "systematic_review", "mechanistic")
        ]
        assert cell.best_level == (min(rated_levels) if rated_levels else None)
    # Every pair with a tested therapy has its cell; a background therapy makes none.
    pairs = {
        (t, s)
        for t, s in published.filter(arms__role="tested", subtypes__isnull=False).values_list(
            "arms__therapy", "subtypes"
        )
    }
    pairs |= set(
        published.filter(
            arms__isnull=True, therapies__isnull=False, subtypes__isnull=False
        ).values_list("therapies", "subtypes")
    )
    assert set(matrix.cells) == pairs
