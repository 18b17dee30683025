"""TherapyFilterSet and DrugClassFilterSet on their own: each filter narrows the published
therapies to exactly those a plain Python reading of the same rule keeps; a bad value is a form
error."""

import pytest

from tests.helpers import contains, query
from therapies.filtersets import DrugClassFilterSet, TherapyFilterSet
from therapies.models import DrugClass, Therapy

pytestmark = pytest.mark.django_db


NARROWING = {
    "drug class": (
        {"drug_class": "tnf-inhibitor"},
        lambda t: t.drug_class is not None and t.drug_class.slug == "tnf-inhibitor",
    ),
    "drug classes are or-ed": (
        {"drug_class": ["tnf-inhibitor", "immune-globulin"]},
        lambda t: (
            t.drug_class is not None and t.drug_class.slug in {"tnf-inhibitor", "immune-globulin"}
        ),
    ),
    "position": ({"position": "investigational"}, lambda t: "investigational" == t.position),
    # The secondary position counts too: no therapy has it as its main one.
    "secondary position": (
        {"position": "may_induce_myositis"},
        lambda t: "may_induce_myositis" in {t.position, t.secondary_position},
    ),
    "text": (
        {"q": "mab"},
        lambda t: (
            contains(t.name, "mab")
            or contains(t.synonyms, "mab")
            or contains(t.brand_names, "mab")
            or t.slug == "mab"
        ),
    ),
}


@pytest.mark.parametrize("params, keep", NARROWING.values(), ids=NARROWING.keys())
def test_each_filter_keeps_exactly_the_matching_therapies(params, keep):
    filterset = TherapyFilterSet(query(params), Therapy.objects.published())
    assert filterset.is_valid(), filterset.errors
    every = list(Therapy.objects.published().select_related("drug_class"))
    expected = {t.pk for t in every if keep(t)}
    assert 0 < len(expected) < len(every)
    assert set(filterset.qs.values_list("pk", flat=True)) == expected


def test_ordering_by_name():
    filterset = TherapyFilterSet(query({"ordering": "-name"}), Therapy.objects.published())
    assert filterset.is_valid(), filterset.errors
    names = list(filterset.qs.values_list("name", flat=True))
    assert names == sorted(names, reverse=True) and len(names) > 1


@pytest.mark.parametrize(
    "params, field",
    [
        ({"drug_class": "no-such-class"}, "drug_class"),
        ({"position": "panacea"}, "position"),
        ({"ordering": "price"}, "ordering"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_bad_value_is_a_form_error_naming_the_filter(params, field):
    filterset = TherapyFilterSet(query(params), Therapy.objects.published())
    assert not filterset.is_valid()
    assert field in filterset.errors


def test_drug_class_text_search():
    filterset = DrugClassFilterSet(query({"q": "inhibitor"}), DrugClass.objects.published())
    assert filterset.is_valid(), filterset.errors
    every = list(DrugClass.objects.published())
    expected = {d.pk for d in every if contains(d.name, "inhibitor")}
    assert 0 < len(expected) < len(every)
    assert set(filterset.qs.values_list("pk", flat=True)) == expected
