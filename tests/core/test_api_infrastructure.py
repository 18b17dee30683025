"""What every API endpoint shares: conditional requests, throttling, errors, schema, docs."""

import time

import pytest
from django.utils.http import http_date

from evidence.models import Study
from tests.factories import client_for
from tests.helpers import content

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/studies/",
        "/api/v1/studies/?therapy=rituximab",
        "/api/v1/references/?format=bibtex",
        "/api/v1/matrix/",
        "/api/v1/designs/",
        "/api/v1/studies/counts/",
        "/api/v1/therapies/rituximab/",
        "/api/v1/references/number/1/",
    ],
)
def test_reads_carry_an_etag_and_answer_304_when_unchanged(url):
    client = client_for()
    first = client.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert first["Last-Modified"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag and not again.content
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


def test_list_etag_changes_with_the_data_and_the_query():
    client = client_for()
    etag = client.get("/api/v1/studies/")["ETag"]
    assert client.get("/api/v1/studies/", {"page_size": 10})["ETag"] != etag
    assert client.get("/api/v1/studies/", {"format": "csv"})["ETag"] != etag
    study = Study.objects.published().first()
    study.summary += " Edited."
    study.save()
    changed = client.get("/api/v1/studies/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    # A study leaving the published set changes the count, hence the ETag.
    etag = changed["ETag"]
    Study.objects.filter(pk=study.pk).update(status="withdrawn")
    assert client.get("/api/v1/studies/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_if_modified_since_before_the_last_change_gets_the_body():
    long_ago = http_date(time.time() - 10 * 365 * 86400)
    response = client_for().get("/api/v1/studies/", HTTP_IF_MODIFIED_SINCE=long_ago)
    assert response.status_code == 200


def test_detail_etag_is_strong_and_list_etag_weak():
    client = client_for()
    assert client.get("/api/v1/therapies/rituximab/")["ETag"].startswith('"')
    assert client.get("/api/v1/therapies/")["ETag"].startswith('W/"')


def test_anonymous_clients_are_throttled_with_retry_after(settings):
    # Throttling is DRF's, behind the page cache: a cached anonymous response is answered
    # before it (and costs nothing). These requests must reach it, whatever
    # MYOEVIDENCE_TEST_CACHES says.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "1000/minute"},
    }
    client = client_for()
    for _ in range(3):
        assert client.get("/api/v1/designs/").status_code == 200
    response = client.get("/api/v1/designs/")
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60
    assert response.json()["retry_after"] == wait
    assert "Retry after" in response.json()["detail"]
    # Exports are throttled too, and still answer the error in JSON.
    response = client.get("/api/v1/studies/", {"format": "csv"})
    assert response.status_code == 429 and response["Content-Type"] == "application/json"


def test_authenticated_clients_have_their_own_budget(settings):
    # Throttling is DRF's, behind the page cache: a cached anonymous response is answered
    # before it (and costs nothing). These requests must reach it, whatever
    # MYOEVIDENCE_TEST_CACHES says.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
    from tests.factories import staff

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "1/minute", "user": "5/minute"},
    }
    client_for().get("/api/v1/designs/")
    assert client_for().get("/api/v1/designs/").status_code == 429
    curator = client_for(staff("cu", "Curators"))
    assert all(curator.get("/api/v1/designs/").status_code == 200 for _ in range(5))
    assert curator.get("/api/v1/designs/").status_code == 429


def test_unknown_api_paths_are_json_404s():
    for url in ("/api/v1/nothing/", "/api/v2/", "/api/v1/studies/1/2/3/"):
        response = client_for().get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


def test_api_root_lists_the_endpoints():
    data = client_for().get("/api/v1/").json()
    assert {
        "therapies",
        "drug-classes",
        "subtypes",
        "designs",
        "studies",
        "outcomes",
        "references",
        "statements",
        "matrix",
        "search",
    } <= set(data)


def test_schema_and_offline_docs():
    client = client_for()
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in (
        "/api/v1/studies/",
        "/api/v1/studies/{id}/",
        "/api/v1/references/",
        "/api/v1/references/number/{number}/",
        "/api/v1/matrix/",
        "/api/v1/search/",
        "/api/v1/studies/{id}/publish/",
    ):
        assert path in paths
    results = spec["components"]["schemas"]["ResultDirectionEnum"]
    assert set(results["enum"]) == {
        "benefit",
        "no_significant_benefit",
        "mixed",
        "harm",
        "not_applicable",
    }
    assert "`harm`" in results["description"]
    formats = {p["name"]: p for p in paths["/api/v1/references/"]["get"]["parameters"]}
    assert set(formats["format"]["schema"]["enum"]) == {"json", "csv", "bibtex", "ris", "csljson"}
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = content(docs).decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


def test_every_documented_field_has_a_description_or_enum():
    spec = client_for().get("/api/schema/", {"format": "json"}).json()
    study = spec["components"]["schemas"]["Study"]["properties"]
    for name in (
        "design",
        "result",
        "level",
        "age_group",
        "sample_size",
        "refractory",
        "therapies",
        "subtypes",
    ):
        field = study[name]
        assert field.get("description") or "$ref" in str(field) or field.get("allOf"), name
