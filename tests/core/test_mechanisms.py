"""One of each mechanism (docs/architecture.md): every entry point answers conditional requests
through core.conditional, and every download names its format from core.formats."""

import pytest
from django.urls import reverse

from core.api.renderers import ExportRenderer
from core.formats import CITATION_FORMATS, FORMATS
from evidence.models import Study
from references.models import Reference
from releases.services import make_release

pytestmark = pytest.mark.django_db


def retitle_study():
    study = Study.objects.published().order_by("pk").first()
    study.summary += " (corrected)"
    study.save()


CONDITIONAL_URLS = [
    pytest.param("/studies/export.csv?therapy=rituximab", id="page-export-csv"),
    pytest.param("/references/export/bibtex/", id="page-export-bibtex"),
    pytest.param("/references/1/cite/ris/", id="page-cite-ris"),
    pytest.param("/api/v1/studies/", id="api-list"),
    pytest.param("/api/v1/studies/?format=csv", id="api-export-csv"),
    pytest.param("/api/v1/references/?format=csljson", id="api-export-csljson"),
]


@pytest.mark.parametrize("url", CONDITIONAL_URLS)
def test_every_entry_point_answers_304_for_a_current_copy(client, url):
    first = client.get(url)
    assert first.status_code == 200
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert first["Cache-Control"] == "no-cache"
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["ETag"] == etag
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304


@pytest.mark.parametrize(
    "url",
    [
        "/studies/export.csv",
        "/api/v1/studies/?format=csv",
        "/references/export/csljson/",
    ],
)
def test_a_changed_row_changes_the_etag_of_page_and_api_exports(client, url):
    etag = client.get(url)["ETag"]
    retitle_study()
    Reference.objects.order_by("pk").first().save()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag


def test_a_citation_etag_follows_the_reference(client):
    url = "/references/1/cite/bibtex/"
    etag = client.get(url)["ETag"]
    assert not etag.startswith("W/")  # one record: a strong validator (digest of the text)
    reference = Reference.objects.get(number=1)
    reference.title += " (corrected)"
    reference.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_a_page_export_refuses_a_failed_if_match_with_412(client):
    response = client.get("/studies/export.csv", HTTP_IF_MATCH='"not-the-etag"')
    assert response.status_code == 412


def test_a_release_file_is_validated_by_its_sha256(client):
    release = make_release(version="2026.12.99")  # 2026.12.0 ships with the corpus
    artefact = release.artefacts.get(name="references.bib")
    url = "/releases/2026.12.99/references.bib"
    response = client.get(url)
    assert response["ETag"] == f'"{artefact.sha256}"'
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert artefact.media_type == FORMATS["bibtex"].media_type


@pytest.mark.parametrize(
    "url, fmt",
    [
        ("/studies/export.csv", "csv"),
        ("/api/v1/studies/?format=csv", "csv"),
        ("/references/export/ris/", "ris"),
        ("/api/v1/references/?format=ris", "ris"),
        ("/references/1/cite/csljson/", "csljson"),
        ("/api/v1/references/1/?format=bibtex", "bibtex"),
    ],
)
def test_pages_and_api_name_a_format_the_same_way(client, url, fmt):
    response = client.get(url)
    spec = FORMATS[fmt]
    assert response["Content-Type"] == spec.content_type
    assert response["Content-Disposition"].endswith(f'.{spec.extension}"')


def test_the_admin_export_names_its_format_from_the_table(admin_client):
    study = Study.objects.order_by("pk").first()
    response = admin_client.post(
        reverse("admin:evidence_study_changelist"),
        {"action": "export_csv", "_selected_action": [study.pk]},
    )
    assert response["Content-Type"] == FORMATS["csv"].content_type
    header = response.content.decode().splitlines()[0].split(",")
    # The site's studies CSV first (the same columns as the pages), the curators' after.
    assert header[:3] == ["id", "label", "reference_number"]
    assert header[-3:] == ["key", "status", "level_override_reason"]


def test_the_api_renderers_come_from_the_table():
    from references.api.views import ReferenceViewSet

    renderers = [r for r in ReferenceViewSet.list_export_renderers if issubclass(r, ExportRenderer)]
    assert {r.format for r in renderers} == {"csv", "bibtex", "ris", "csljson"}
    for renderer in renderers:
        spec = FORMATS[renderer.format]
        assert (renderer.media_type, renderer.extension) == (spec.media_type, spec.extension)


def test_the_cite_links_list_every_citation_format(client):
    html = client.get("/references/1/").content.decode()
    for spec in CITATION_FORMATS:
        assert f'href="/references/1/cite/{spec.name}/">{spec.label}</a>' in html


def test_a_feed_answers_304_until_something_is_published(client):
    url = "/feeds/changes.atom"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    retitle_study()
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag
