"""Filters people can use (issue 17): checkboxes, chips, "Any", human labels, plurals, counts."""

import re

import pytest

from evidence.models import Study
from references.models import Reference

pytestmark = pytest.mark.django_db


def html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_therapy_and_drug_class_are_checkbox_groups_not_multi_selects(client):
    page = html(client, "/studies/")
    assert re.search(r'<input type="checkbox" name="therapy" value="rituximab"', page)
    assert re.search(r'<input type="checkbox" name="drug_class" value="', page)
    assert "multiple" not in re.findall(r"<select[^>]*>", page).__str__()


def test_active_filters_are_chips_that_each_drop_one_value(client):
    page = html(client, "/studies/?result=harm&result=benefit&therapy=rituximab&q=")
    chips = re.findall(r'<a class="chip" href="([^"]*)"[^>]*>([^<]*)<', page)
    labels = [label.strip().split(" (")[0] for _, label in chips]
    assert labels == ["Therapy: Rituximab", "Result: Harm", "Result: Benefit"]
    urls = dict(zip(labels, [url.replace("&amp;", "&") for url, _ in chips], strict=True))
    assert urls["Result: Harm"] == "?result=benefit&therapy=rituximab"
    assert "Clear all filters" in page
    assert "<summary>Filter (3 active)</summary>" in page


def test_no_chip_and_no_count_without_filters(client):
    page = html(client, "/studies/")
    assert 'class="chip"' not in page
    assert "<summary>Filter</summary>" in page


def test_yes_no_selects_default_to_any_not_unknown(client):
    for url in ("/studies/", "/references/"):
        page = html(client, url)
        assert "Unknown" not in page
        assert '<option value="" selected>Any</option>' in page


def test_reference_filters_have_human_labels_and_accept_the_api_form(client):
    page = html(client, "/references/")
    assert "(slug)" not in page
    assert re.search(r'value="rituximab"[^>]*>\s*Rituximab', page) or "Rituximab</label>" in page
    assert html(client, "/references/?therapy=abatacept,rituximab").count('class="chip"') == 2


def test_singular_and_plural_and_the_count_in_title_and_heading(client):
    one = Study.objects.published().filter(result="harm").count()
    page = html(client, "/studies/?result=harm")
    word = "study matches" if one == 1 else "studies match"
    assert f"<strong>{one}</strong> {word}." in page
    assert f"<title>Studies ({one} matching)" in page
    assert f'<h1>Studies <span class="count">({one})</span></h1>' in page
    ref = Reference.objects.published().get(number=1)
    page = html(client, f"/references/?q={ref.pmid or ref.title.split()[0]}")
    assert re.search(r"<strong>1</strong> reference matches\.", page), page[:0]


def test_no_empty_form_action(client):
    for url in ("/studies/", "/references/", "/search/?q=ivig", "/therapies/rituximab/"):
        assert 'action=""' not in html(client, url)
