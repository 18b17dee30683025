"""Reference pages: numbered list, filters, exports, citation meta tags, cite block."""

import json
import re

import bibtexparser
import pytest

from references.models import Reference
from tests.helpers import body

pytestmark = pytest.mark.django_db


def shown(html: str) -> int:
    return int(re.search(r"<strong>(\d+)</strong> reference", html).group(1))


def test_list_is_numbered_as_in_the_review(client):
    html = body(client.get("/references/"))
    assert shown(html) == Reference.objects.published().count() == 61  # 60 + the review
    values = [int(v) for v in re.findall(r'<li value="(\d+)">', html)]
    assert values == list(range(1, 61))


def test_filters_and_sorting(client):
    html = body(client.get("/references/?year_min=2010&year_max=2011"))
    assert shown(html) == Reference.objects.filter(year__range=(2010, 2011)).count()
    assert (
        shown(body(client.get("/references/?has_pmid=true")))
        == Reference.objects.exclude(pmid="").count()
    )
    assert (
        shown(body(client.get("/references/?role=mechanistic")))
        == Reference.objects.filter(role="mechanistic").count()
    )
    by_year = body(client.get("/references/?ordering=year"))
    years = [int(y) for y in re.findall(r"\. (\d{4});", by_year)]
    assert years == sorted(years)
    assert 'role="alert"' in body(client.get("/references/?year_min=x"))


@pytest.mark.parametrize("query", ["", "therapy=abatacept", "year_min=2012"])
def test_exports_have_as_many_records_as_the_page(client, query):
    page = shown(body(client.get(f"/references/?{query}")))
    bib = body(client.get(f"/references/export/bibtex/?{query}"))
    assert len(bibtexparser.parse_string(bib).entries) == page
    ris = body(client.get(f"/references/export/ris/?{query}"))
    assert ris.count("TY  - ") == page and ris.count("ER  -") == page
    items = json.loads(body(client.get(f"/references/export/csljson/?{query}")))
    assert len(items) == page


def test_abatacept_references_include_studies_and_rationale(client):
    items = json.loads(body(client.get("/references/export/csljson/?therapy=abatacept")))
    numbers = {i["citation-number"] for i in items}
    assert {50, 51, 53}.issubset(numbers)  # two mechanistic papers and a treatment report


def test_unknown_export_format_is_404(client):
    assert client.get("/references/export/docx/").status_code == 404


def test_detail_has_highwire_meta_tags_and_cite_block(client):
    html = body(client.get("/references/1/"))
    assert '<meta name="citation_title" content="Rituximab in the treatment of refractory' in html
    assert html.count('<meta name="citation_author"') == 3
    assert '<meta name="citation_doi" content="10.1002/art.37754">' in html
    assert '<meta name="citation_firstpage" content="314">' in html
    assert '<meta name="citation_lastpage" content="324">' in html
    assert "Cite this" in html and "/references/1/cite/bibtex/" in html
    assert "RIM trial" in html  # the study it reports
    cite = body(client.get("/references/1/cite/bibtex/"))
    assert bibtexparser.parse_string(cite).entries[0].key == "oddis2013rituximab"


def test_missing_identifiers_are_said_to_be_missing(client):
    ref = Reference.objects.filter(pmid="", doi="").first()
    html = body(client.get(ref.get_absolute_url()))
    assert html.count("not recorded") >= 2


def test_reference_added_later_is_reached_by_id(client):
    ref = Reference.objects.create(
        title="Later", bibtex_key="later2025", year=2025, status="published"
    )
    assert ref.get_absolute_url() == f"/references/id-{ref.pk}/"
    assert client.get(ref.get_absolute_url()).status_code == 200
    assert client.get("/references/id-x/").status_code == 404


def test_the_unnumbered_source_review_is_named_and_its_cite_links_work(client):
    from references.choices import ReferenceRole

    review = Reference.objects.get(role=ReferenceRole.SOURCE_REVIEW)
    assert review.number is None
    page = body(client.get(review.get_absolute_url()))
    assert "The source review itself" in page
    links = re.findall(r'href="(/references/[^"]+/cite/[^"]+/)"', page)
    assert len(links) == 3 and all(f"/id-{review.pk}/" in link for link in links)
    for link in links:
        assert client.get(link).status_code == 200
    assert review.short_label == "the source review"
