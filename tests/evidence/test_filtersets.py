"""StudyFilterSet and SubtypeFilterSet on their own (no view, no API): each filter narrows the
published studies to exactly those a plain Python reading of the same rule keeps, and a bad
value is a form error, never an exception."""

import pytest
from django.test import RequestFactory

from core.choices import ReviewStatus
from core.workflow import CURATORS
from evidence.filtersets import StudyFilterSet, SubtypeFilterSet
from evidence.models import DiseaseSubtype, Study
from tests.factories import staff
from tests.helpers import contains, query
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


def studies() -> list[Study]:
    return list(
        Study.objects.published()
        .select_related("reference")
        .prefetch_related("therapies__drug_class", "subtypes")
    )


def therapies_of(study) -> set[str]:
    return {t.slug for t in study.therapies.all()}


# (query, what the same rule keeps, read in Python from each published study)
NARROWING = {
    "therapy": ({"therapy": "rituximab"}, lambda s: "rituximab" in therapies_of(s)),
    "therapies are or-ed": (
        {"therapy": ["rituximab", "abatacept"]},
        lambda s: therapies_of(s) & {"rituximab", "abatacept"},
    ),
    "drug class": (
        {"drug_class": "tnf-inhibitor"},
        lambda s: any(t.drug_class.slug == "tnf-inhibitor" for t in s.therapies.all()),
    ),
    "subtype by code": ({"subtype": "dm"}, lambda s: "dm" in {d.code for d in s.subtypes.all()}),
    "subtype by slug": (
        {"subtype": "polymyositis"},
        lambda s: "polymyositis" in {d.slug for d in s.subtypes.all()},
    ),
    "design": ({"design": "case_report"}, lambda s: s.design == "case_report"),
    "result": ({"result": "harm"}, lambda s: s.result == "harm"),
    "level": ({"level": "2"}, lambda s: s.level == 2),
    "age group": ({"age_group": "adult"}, lambda s: s.age_group == "adult"),
    "refractory": ({"refractory": "true"}, lambda s: s.refractory is True),
    "year from": ({"year_min": "2010"}, lambda s: s.reference.year >= 2010),
    "year until": ({"year_max": "2005"}, lambda s: s.reference.year <= 2005),
    "sample size": ({"size_min": "20"}, lambda s: (s.sample_size or 0) >= 20),
    "text, every word": (
        {"q": "rituximab dermatomyositis"},
        lambda s: all(
            any(
                contains(field, word)
                for field in (s.label, s.summary, s.reference.title, s.reference.first_author)
            )
            for word in ("rituximab", "dermatomyositis")
        ),
    ),
    "two filters are and-ed": (
        {"design": "case_report", "therapy": "rituximab"},
        lambda s: s.design == "case_report" and "rituximab" in therapies_of(s),
    ),
}


@pytest.mark.parametrize("params, keep", NARROWING.values(), ids=NARROWING.keys())
def test_each_filter_keeps_exactly_the_matching_studies(params, keep):
    filterset = StudyFilterSet(query(params), Study.objects.published())
    assert filterset.is_valid(), filterset.errors
    every = studies()
    expected = {s.pk for s in every if keep(s)}
    # A real narrowing: the corpus has studies on both sides of each of these filters.
    assert 0 < len(expected) < len(every)
    assert sorted(filterset.qs.values_list("pk", flat=True)) == sorted(expected)


def test_a_reference_number_keeps_its_studies():
    study = Study.objects.published().select_related("reference").first()
    filterset = StudyFilterSet(
        query({"reference": str(study.reference.number)}), Study.objects.published()
    )
    assert filterset.is_valid(), filterset.errors
    assert set(filterset.qs) == set(Study.objects.published().filter(reference=study.reference))
    assert study in filterset.qs


def test_ordering_by_year_descending():
    filterset = StudyFilterSet(query({"ordering": "-year"}), Study.objects.published())
    assert filterset.is_valid(), filterset.errors
    years = [s.reference.year for s in filterset.qs.select_related("reference")]
    assert years == sorted(years, reverse=True) and len(set(years)) > 1


@pytest.mark.parametrize("ordering", ["-year", "year", "design", "-result", "level", "size"])
def test_a_chosen_order_is_total_ties_by_id(ordering):
    # Many studies share a year, a design or a result: without a last unique key the database
    # orders the tied rows as it likes, and a paged list could show one on two pages.
    field = {"year": "reference__year", "size": "sample_size"}.get(
        ordering.lstrip("-"), ordering.lstrip("-")
    )
    filterset = StudyFilterSet(query({"ordering": ordering}), Study.objects.published())
    assert filterset.is_valid(), filterset.errors
    rows = list(filterset.qs.values_list(field, "pk"))
    keys = [key for key, _ in rows]
    assert len(set(keys)) < len(keys)  # there are ties to break
    for (key, pk), (next_key, next_pk) in zip(rows, rows[1:], strict=False):
        if key == next_key:
            assert pk < next_pk, (ordering, key, pk, next_pk)


def test_the_queryset_handed_in_is_only_narrowed():
    """A FilterSet keeps the joins of the queryset it is given (STYLE.md, habit 2)."""
    base = Study.objects.published().select_related("reference").filter(design="case_report")
    filterset = StudyFilterSet(query({"therapy": "rituximab"}), base)
    assert filterset.is_valid()
    assert filterset.qs.query.select_related == {"reference": {}}
    assert set(filterset.qs) <= set(base)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"therapy": "no-such-therapy"}, "therapy"),
        ({"drug_class": "no-such-class"}, "drug_class"),
        ({"subtype": "no-such-subtype"}, "subtype"),
        ({"design": "anecdote"}, "design"),
        ({"result": "cured"}, "result"),
        ({"level": "7"}, "level"),
        ({"age_group": "elderly"}, "age_group"),
        ({"year_min": "twenty"}, "year_min"),
        ({"size_min": "1e999"}, "size_min"),
        ({"reference": "twelve"}, "reference"),
        ({"ordering": "colour"}, "ordering"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_bad_value_is_a_form_error_naming_the_filter(params, field):
    filterset = StudyFilterSet(query(params), Study.objects.published())
    assert not filterset.is_valid()
    assert field in filterset.errors


def test_a_draft_therapy_is_offered_to_curators_only():
    Therapy.objects.filter(slug="rituximab").update(status=ReviewStatus.DRAFT)
    anonymous = StudyFilterSet(query({"therapy": "rituximab"}), Study.objects.all())
    assert not anonymous.is_valid() and "therapy" in anonymous.errors

    request = RequestFactory().get("/")
    request.user = staff("filtering-curator", CURATORS)
    curator = StudyFilterSet(query({"therapy": "rituximab"}), Study.objects.all(), request=request)
    assert curator.is_valid(), curator.errors
    assert set(curator.qs) == set(Study.objects.filter(therapies__slug="rituximab"))


def test_a_draft_subtype_is_not_accepted_from_readers():
    DiseaseSubtype.objects.filter(code="dm").update(status=ReviewStatus.DRAFT)
    for value in ("dm", "dermatomyositis"):
        filterset = StudyFilterSet(query({"subtype": value}), Study.objects.published())
        assert not filterset.is_valid() and "subtype" in filterset.errors


@pytest.mark.parametrize("value", ["DM", "myositis", "anti-srp"])
def test_subtype_text_search_matches_name_code_or_synonym(value):
    filterset = SubtypeFilterSet(query({"q": value}), DiseaseSubtype.objects.published())
    assert filterset.is_valid(), filterset.errors
    every = list(DiseaseSubtype.objects.published())
    expected = {
        d.pk
        for d in every
        if contains(d.name, value)
        or d.code.lower() == value.lower()
        or (d.abbreviation or "").lower() == value.lower()
        or contains(str(d.synonyms), value)
    }
    assert expected and set(filterset.qs.values_list("pk", flat=True)) == expected
