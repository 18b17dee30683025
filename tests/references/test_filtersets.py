"""ReferenceFilterSet on its own: each filter narrows the published references to exactly those
a plain Python reading of the same rule keeps; a bad value is a form error, an unknown therapy
or subtype matches nothing (the API's documented behaviour)."""

import re

import pytest

from core.choices import ReviewStatus
from references.filtersets import ReferenceFilterSet
from references.models import Reference
from tests.helpers import query

pytestmark = pytest.mark.django_db

PUBLISHED = ReviewStatus.PUBLISHED


def references() -> list[Reference]:
    return list(
        Reference.objects.published().prefetch_related(
            "authors", "studies__therapies", "studies__subtypes", "rationales__therapy"
        )
    )


def on_therapy(reference, slug: str) -> bool:
    """Cited by a published study of the published therapy, or its published rationale."""
    by_study = any(
        study.status == PUBLISHED
        and any(t.slug == slug and t.status == PUBLISHED for t in study.therapies.all())
        for study in reference.studies.all()
    )
    by_rationale = any(
        r.therapy.slug == slug and r.therapy.status == PUBLISHED for r in reference.rationales.all()
    )
    return by_study or by_rationale


def on_subtype(reference, code: str) -> bool:
    return any(
        study.status == PUBLISHED and code in {d.code for d in study.subtypes.all()}
        for study in reference.studies.all()
    )


def mentions(reference, term: str) -> bool:
    term = term.lower()
    return (
        term in reference.title.lower()
        or term in (reference.journal or "").lower()
        or any(term in a.family.lower() for a in reference.authors.all())
        or (reference.doi or "").lower() == term
        or reference.pmid == term
    )


NARROWING = {
    "kind": ({"kind": "conference_abstract"}, lambda r: r.kind == "conference_abstract"),
    "role": ({"role": "mechanistic"}, lambda r: r.role == "mechanistic"),
    "year from": ({"year_min": "2010"}, lambda r: r.year >= 2010),
    "year until": ({"year_max": "2000"}, lambda r: r.year <= 2000),
    "has a PMID": ({"has_pmid": "true"}, lambda r: r.pmid != ""),
    "has no DOI": ({"has_doi": "false"}, lambda r: r.doi == ""),
    "therapy": ({"therapy": "rituximab"}, lambda r: on_therapy(r, "rituximab")),
    # The API's comma form and the pages' repeated parameter mean the same.
    "therapies, comma-separated": (
        {"therapy": "rituximab,abatacept"},
        lambda r: on_therapy(r, "rituximab") or on_therapy(r, "abatacept"),
    ),
    "subtype by code": ({"subtype": "dm"}, lambda r: on_subtype(r, "dm")),
    "subtype by slug": ({"subtype": "inclusion-body-myositis"}, lambda r: on_subtype(r, "ibm")),
    "text, every word": (
        {"q": "rituximab myositis"},
        lambda r: mentions(r, "rituximab") and mentions(r, "myositis"),
    ),
}


@pytest.mark.parametrize("params, keep", NARROWING.values(), ids=NARROWING.keys())
def test_each_filter_keeps_exactly_the_matching_references(params, keep):
    filterset = ReferenceFilterSet(query(params), Reference.objects.published())
    assert filterset.is_valid(), filterset.errors
    every = references()
    expected = {r.pk for r in every if keep(r)}
    assert 0 < len(expected) < len(every)
    assert set(filterset.qs.values_list("pk", flat=True)) == expected


def test_an_unknown_therapy_or_subtype_matches_nothing():
    for params in ({"therapy": "no-such-therapy"}, {"subtype": "no-such-subtype"}):
        filterset = ReferenceFilterSet(query(params), Reference.objects.published())
        assert filterset.is_valid(), filterset.errors
        assert not filterset.qs.exists()


def test_a_draft_study_does_not_make_its_reference_match():
    study = Reference.objects.get(number=12).studies.first()
    assert study is not None
    reference = study.reference
    slugs = [t.slug for t in study.therapies.all()]
    others = reference.studies.exclude(pk=study.pk).filter(therapies__slug__in=slugs)
    study.__class__.objects.filter(pk__in=[study.pk, *others.values_list("pk", flat=True)]).update(
        status=ReviewStatus.DRAFT
    )
    filterset = ReferenceFilterSet(query({"therapy": slugs[0]}), Reference.objects.published())
    assert filterset.is_valid(), filterset.errors
    rationale = reference.rationales.filter(therapy__slug=slugs[0]).exists()
    assert (reference in filterset.qs) == rationale


def test_ordering_by_author():
    filterset = ReferenceFilterSet(query({"ordering": "author"}), Reference.objects.published())
    assert filterset.is_valid(), filterset.errors
    authors = list(filterset.qs.values_list("first_author", flat=True))
    assert authors == sorted(authors) and len(set(authors)) > 1


@pytest.mark.parametrize(
    "params, field",
    [
        ({"kind": "poem"}, "kind"),
        ({"role": "decoration"}, "role"),
        ({"year_min": "recent"}, "year_min"),
        ({"ordering": "colour"}, "ordering"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_bad_value_is_a_form_error_naming_the_filter(params, field):
    filterset = ReferenceFilterSet(query(params), Reference.objects.published())
    assert not filterset.is_valid()
    assert field in filterset.errors


def test_each_word_may_match_a_different_author():
    every = references()
    reference = next(r for r in every if len({a.family for a in r.authors.all()}) >= 2)
    first, second = sorted({a.family for a in reference.authors.all()})[:2]
    filterset = ReferenceFilterSet(query({"q": f"{first} {second}"}), Reference.objects.published())
    assert filterset.is_valid(), filterset.errors
    assert reference in filterset.qs
    expected = {r.pk for r in every if mentions(r, first) and mentions(r, second)}
    assert set(filterset.qs.values_list("pk", flat=True)) == expected


def test_many_words_do_not_multiply_the_rows_by_the_authors():
    """Each word is a semi-join on the authors, never a join of its own: with a join per word
    the database builds authors ** words rows per reference (over a minute on PostgreSQL
    for a six-word title), and DISTINCT had to fold them."""
    reference = max(references(), key=lambda r: len(r.authors.all()))
    words = reference.title.split()[:10]
    assert len(words) >= 6 and len(reference.authors.all()) >= 5
    filterset = ReferenceFilterSet(
        query({"q": " ".join(words)}), Reference.objects.published().order_by()
    )
    assert filterset.is_valid(), filterset.errors
    # The SQL with placeholders: the words themselves are parameters.
    sql = filterset.qs.query.sql_with_params()[0].upper()
    assert not re.search(r"\b(JOIN|DISTINCT)\b", sql), sql
    pks = list(filterset.qs.values_list("pk", flat=True))
    assert reference.pk in pks and len(pks) == len(set(pks))
