"""Reads built from several queries: the study table's rows."""

import pytest

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
        assert (row.label, row.design, row.sample_size, row.result, row.level) == \
            (study.label, study.design, study.sample_size, study.result, study.level)
        assert (row.reference_id, row.first_author, row.reference_number, row.year) == \
            (study.reference_id, study.reference.first_author, study.reference.number,
             study.reference.year)
        assert list(row.therapies) == [t.name for t in study.therapies.all()]
        assert [(s.name, s.short) for s in row.subtypes] == \
            [(s.name, s.abbreviation or s.code) for s in study.subtypes.all()]
        assert row.get_absolute_url() == study.get_absolute_url()
        assert row.get_design_display() == study.get_design_display()
    assert any(len(row.therapies) > 1 for row in rows)  # combinations are kept whole


def test_study_rows_of_nothing_run_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert study_rows(Study.objects.none()) == []


def test_matrix_cells_match_a_count_of_each_cell(django_assert_max_num_queries):
    from collections import Counter

    from django.db.models import Min

    from evidence.selectors import evidence_matrix
    from tests.factories import make_studies

    make_studies(60)  # many studies per cell, some without a level
    published = Study.objects.published()
    with django_assert_max_num_queries(3):
        matrix = evidence_matrix(published)
    assert matrix.cells
    for (therapy_id, subtype_id), cell in matrix.cells.items():
        in_cell = published.filter(therapies=therapy_id).filter(subtypes=subtype_id)
        assert cell.studies == in_cell.count()
        assert cell.patients == sum(s.sample_size or 0 for s in in_cell)
        assert cell.studies_without_size == in_cell.filter(sample_size=None).count()
        assert cell.best_level == in_cell.aggregate(best=Min("level"))["best"]
        assert cell.results == Counter(in_cell.values_list("result", flat=True))
    # Every pair with a study has its cell.
    pairs = set(published.filter(therapies__isnull=False, subtypes__isnull=False)
                .values_list("therapies", "subtypes"))
    assert set(matrix.cells) == pairs
