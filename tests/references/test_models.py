"""Reference validation: identifier formats, uniqueness, authors and citation formatting."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from references.models import Author, Reference

pytestmark = pytest.mark.django_db


def make(**fields):
    values = {"title": "A new study", "bibtex_key": "new2020study", "year": 2020}
    values.update(fields)
    return Reference(**values)


def test_duplicate_doi_is_refused_case_insensitively_with_a_clear_message():
    ref = make(doi="10.1002/ART.37754")  # reference 1's DOI in other case
    with pytest.raises(ValidationError) as info:
        ref.full_clean()
    assert "Another reference already has this DOI." in str(info.value)


def test_duplicate_doi_is_refused_by_the_database_too():
    with pytest.raises(IntegrityError), transaction.atomic():
        make(doi="10.1002/art.37754").save()


def test_duplicate_pmid_is_refused():
    with pytest.raises(ValidationError) as info:
        make(pmid="23124935").full_clean()
    assert "Another reference already has this PMID." in str(info.value)


@pytest.mark.parametrize("pmid", ["abc", "123456789", "0123", "12 34"])
def test_bad_pmid_is_refused(pmid):
    with pytest.raises(ValidationError) as info:
        make(pmid=pmid).full_clean()
    assert "A PMID is 1 to 8 digits" in str(info.value)


@pytest.mark.parametrize("doi", ["11.1000/xyz", "10.12/abc", "doi 10.1000/x y", "10.1000"])
def test_bad_doi_is_refused(doi):
    with pytest.raises(ValidationError) as info:
        make(doi=doi).full_clean()
    assert "Enter a DOI" in str(info.value)


def test_doi_prefix_is_stripped_on_save():
    ref = make(doi="https://doi.org/10.9999/example.1")
    ref.save()
    assert ref.doi == "10.9999/example.1"
    assert ref.doi_url == "https://doi.org/10.9999/example.1"


def test_bad_pmcid_is_refused():
    with pytest.raises(ValidationError):
        make(pmcid="3107255").full_clean()


def test_number_is_unique_when_set_but_many_may_be_empty():
    make(bibtex_key="a2020").save()
    make(bibtex_key="b2020", title="Another").save()  # two without numbers are fine
    with pytest.raises(ValidationError) as info:
        make(bibtex_key="c2020", number=1).full_clean()
    assert "Another reference already has this number." in str(info.value)


def test_corporate_author_displays_its_name_and_leads_the_citation():
    ref = make()
    ref.save()
    Author.objects.create(reference=ref, position=1, family="Muscle Study Group", is_corporate=True)
    Author.objects.create(reference=ref, position=2, family="Smith", given="J. A.")
    ref.refresh_first_author()
    ref.refresh_from_db()
    assert ref.first_author == "Muscle Study Group"
    assert [a.display_name for a in ref.ordered_authors] == ["Muscle Study Group", "Smith JA"]
    assert ref.citation.startswith("Muscle Study Group, Smith JA. A new study. 2020.")


def test_vancouver_lists_six_authors_then_et_al():
    ref = make(journal="J Test", volume="1", issue="2", pages="3--9")
    ref.save()
    for i in range(1, 9):
        Author.objects.create(reference=ref, position=i, family=f"Author{i}", given="A")
    citation = ref.citation
    assert "Author6 A, et al. A new study. J Test. 2020;1(2):3-9." in citation
    assert "Author7" not in citation


def test_a_long_title_is_cut_at_a_word_with_an_ellipsis():
    """The name admin lists, autocompletes and refusals use: it cut mid-word before ("...
    dermatomyositis and ."), with nothing to say the title went on."""
    title = (
        "Rituximab in the treatment of refractory adult and juvenile dermatomyositis and "
        "adult polymyositis: a randomized, placebo-phase trial"
    )
    shown = str(Reference(number=9, first_author="Oddis CV", year=2013, title=title))
    assert shown == (
        "[9] Oddis CV (2013) Rituximab in the treatment of refractory adult and juvenile "
        "dermatomyositis and…"
    )
    short = Reference(first_author="Doe J", year=2020, title="A short title.")
    assert str(short) == "Doe J (2020) A short title."
