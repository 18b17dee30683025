"""The bibliography in the API: JSON, and BibTeX, RIS, CSL-JSON and CSV exports that honour
the filters and hold exactly the listed references."""

import csv
import io
import json

import bibtexparser
import pytest
import rispy

from references.models import Reference
from tests.factories import client_for
from tests.helpers import content

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

LIST = "/api/v1/references/"


def test_reference_representation_has_the_documented_fields():
    data = client_for().get("/api/v1/references/number/1/").json()
    assert {
        "number",
        "authors",
        "year",
        "title",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "pmcid",
        "kind",
        "url",
        "citation",
    } <= set(data)
    reference = Reference.objects.get(number=1)
    assert data["number"] == 1 and data["title"] == reference.title
    assert data["authors"] == [a.display_name for a in reference.ordered_authors]
    assert data["citation"] == reference.citation


def test_reference_detail_by_id_and_by_number_agree():
    client = client_for()
    reference = Reference.objects.get(number=12)
    by_id = client.get(f"{LIST}{reference.pk}/").json()
    assert by_id == client.get("/api/v1/references/number/12/").json()


@pytest.mark.parametrize("number", ["999", "abc", "0", "99999999999"])
def test_unknown_reference_number_is_a_json_404(number):
    response = client_for().get(f"/api/v1/references/number/{number}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_list_is_paginated_with_count_and_links():
    data = client_for().get(LIST, {"page_size": 25}).json()
    assert data["count"] == Reference.objects.published().count() >= 60
    assert len(data["results"]) == 25 and data["previous"] is None
    assert "page=2" in data["next"]


def test_bibtex_export_holds_every_filtered_reference():
    client = client_for()
    count = client.get(LIST, {"therapy": "rituximab"}).json()["count"]
    response = client.get(LIST, {"therapy": "rituximab", "format": "bibtex"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-bibtex")
    assert response.streaming
    library = bibtexparser.parse_string(content(response).decode())
    assert not library.failed_blocks
    assert len(library.entries) == count > 0


def test_bibtex_of_every_reference_on_abatacept():
    response = client_for().get(LIST, {"therapy": "abatacept", "format": "bibtex"})
    entries = bibtexparser.parse_string(content(response).decode()).entries
    expected = set(
        Reference.objects.published()
        .filter(studies__therapies__slug="abatacept")
        .values_list("bibtex_key", flat=True)
    ) | set(
        Reference.objects.published()
        .filter(rationales__therapy__slug="abatacept")
        .values_list("bibtex_key", flat=True)
    )
    assert {e.key for e in entries} == expected != set()


def test_ris_export_parses_and_matches_the_list_count():
    client = client_for()
    count = client.get(LIST, {"year_min": 2010}).json()["count"]
    text = content(client.get(LIST, {"year_min": 2010, "format": "ris"})).decode()
    # rispy, an independent reader, not ours: a record our writer breaks would not parse.
    records = rispy.loads(text)
    assert len(records) == count > 0
    assert all(r["type_of_reference"] and r["title"] for r in records)


def test_csljson_export_is_a_json_array_of_the_listed_references():
    client = client_for()
    count = client.get(LIST, {"kind": "journal_article"}).json()["count"]
    items = json.loads(content(client.get(LIST, {"kind": "journal_article", "format": "csljson"})))
    assert len(items) == count > 0
    assert all(item["type"] == "article-journal" and item["title"] for item in items)


def test_csv_export_rows_match_the_list():
    client = client_for()
    listed = client.get(LIST, {"page_size": 500}).json()
    rows = list(csv.DictReader(io.StringIO(content(client.get(LIST, {"format": "csv"})).decode())))
    assert len(rows) == listed["count"]
    assert [r["title"] for r in rows] == [r["title"] for r in listed["results"]]


@pytest.mark.parametrize(
    "accept, prefix",
    [
        ("application/x-bibtex", b"@"),
        ("application/x-research-info-systems", b"TY  - "),
        ("application/vnd.citationstyles.csl+json", b"["),
        ("text/csv", b"id,number"),
    ],
)
def test_formats_are_negotiated_by_accept_header(accept, prefix):
    response = client_for().get(LIST, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(accept)
    assert content(response).startswith(prefix)


def test_single_reference_as_bibtex():
    reference = Reference.objects.get(number=1)
    response = client_for().get(f"{LIST}{reference.pk}/", {"format": "bibtex"})
    entries = bibtexparser.parse_string(content(response).decode()).entries
    assert [e.key for e in entries] == [reference.bibtex_key]


def test_unknown_format_is_406_and_bad_filter_is_400():
    client = client_for()
    response = client.get(LIST, {"format": "docx"})
    assert response.status_code == 406 and "bibtex" in response.json()["detail"]
    assert client.get(LIST, HTTP_ACCEPT="image/png").status_code == 406
    response = client.get(LIST, {"kind": "poem", "format": "bibtex"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json" and "kind" in response.json()


def test_search_alias_and_ordering():
    client = client_for()
    by_q = client.get(LIST, {"q": "rituximab"}).json()
    by_search = client.get(LIST, {"search": "rituximab"}).json()
    assert by_q["count"] == by_search["count"] > 0
    years = [
        r["year"]
        for r in client.get(LIST, {"ordering": "-year", "page_size": 100}).json()["results"]
    ]
    assert years == sorted(years, reverse=True)


def test_anonymous_clients_do_not_see_drafts():
    Reference.objects.filter(number=1).update(status="draft")
    published = Reference.objects.published().count()
    client = client_for()
    assert client.get("/api/v1/references/number/1/").status_code == 404
    assert client.get(LIST).json()["count"] == published
    bib = content(client.get(LIST, {"format": "bibtex"})).decode()
    assert len(bibtexparser.parse_string(bib).entries) == published
