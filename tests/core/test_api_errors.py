"""Every error under /api/ is JSON (413, 500 and the others DRF never sees), while the site's
pages keep their HTML error pages; NUL characters and lone surrogates, in any part of a request,
are a 400 that says so, never a 500 or a database error (run on PostgreSQL too: it refuses NUL
in text); deeply nested JSON and odd admin URLs are never a 5xx."""

import json
from unittest import mock

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


def assert_json_error(response, status: int, *phrases: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    data = json.loads(response.content)
    text = json.dumps(data)
    for phrase in phrases:
        assert phrase in text, text
    return data


def post_json(client, url, body: str | bytes):
    return client.generic("POST", url, body, content_type="application/json")


# -- what DRF never sees --------------------------------------------------------------------------


def test_an_unhandled_exception_is_a_json_500_with_the_request_id_and_no_details():
    client = Client(raise_request_exception=False)
    with mock.patch("therapies.api.views.TherapyViewSet.list", side_effect=RuntimeError("secret")):
        response = client.get("/api/v1/therapies/", HTTP_X_REQUEST_ID="req-500")
    data = assert_json_error(response, 500, "Server error")
    assert data["request_id"] == "req-500"
    assert "secret" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_pages_keep_their_html_500():
    client = Client(raise_request_exception=False)
    with mock.patch("evidence.views.home.AboutView.get", side_effect=RuntimeError("secret")):
        response = client.get("/about/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_a_json_body_over_the_upload_limit_is_a_json_413(curator_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post_json(curator_api, "/api/v1/studies/", json.dumps({"label": "x" * 2000}))
    assert_json_error(response, 413, "1,000")


def test_django_s_own_refusal_of_a_large_body_is_a_json_413(curator_api, settings):
    """Something reading request.body (Django's limit) rather than DRF's stream."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    from django.core.exceptions import RequestDataTooBig

    with mock.patch("core.api.parsers.check_length", side_effect=RequestDataTooBig("big")):
        response = post_json(curator_api, "/api/v1/studies/", "{}")
    assert_json_error(response, 413, "larger than the limit of 1,000 bytes")


def test_a_suspicious_operation_is_a_json_400(settings):
    from django.core.exceptions import SuspiciousOperation

    with mock.patch(
        "therapies.api.views.TherapyViewSet.list", side_effect=SuspiciousOperation("/etc/passwd")
    ):
        response = Client().get("/api/v1/therapies/")
    assert_json_error(response, 400, "refused as malformed")
    assert "passwd" not in response.content.decode()


def test_a_bad_host_is_a_json_400_under_the_api_and_html_elsewhere():
    assert_json_error(
        Client().get("/api/v1/therapies/", HTTP_HOST="evil.example"), 400, "Bad request"
    )
    page = Client().get("/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/json")


def test_too_many_query_parameters_is_a_json_400():
    query = "&".join(f"p{i}=1" for i in range(1500))
    assert_json_error(Client().get(f"/api/v1/therapies/?{query}"), 400)


def test_a_too_long_address_is_a_json_414_with_its_message():
    response = Client().get("/api/v1/studies/", {"q": "a" * 40_000})
    assert_json_error(response, 414, "the limit is 32,768")


def test_an_unknown_api_address_and_a_wrong_method_are_json():
    assert_json_error(Client().get("/api/v1/no-such-thing/"), 404, "No such API endpoint")
    assert_json_error(Client().get("/api/no-such-thing"), 404)
    response = Client().delete("/api/v1/therapies/")
    assert response.status_code in (401, 403, 405)
    assert response["Content-Type"].startswith("application/json")


def test_a_405_keeps_its_allow_header(curator_api):
    response = curator_api.delete("/api/v1/therapies/")
    assert_json_error(response, 405)
    assert "GET" in response["Allow"]


def test_an_html_404_under_the_api_becomes_json(rf):
    from django.http import HttpResponseNotFound

    from core.middleware_api import APIErrorMiddleware

    middleware = APIErrorMiddleware(lambda request: HttpResponseNotFound("<h1>gone</h1>"))
    assert_json_error(middleware(rf.get("/api/v1/x/")), 404, "Not found")
    page = middleware(rf.get("/studies/x/"))
    assert page.content == b"<h1>gone</h1>"


# -- NUL characters and lone surrogates ----------------------------------------------------------

NUL_URLS = [
    "/api/v1/studies/?q=%00",
    "/api/v1/studies/?therapy=rituximab%00",
    "/api/v1/studies/?ordering=%00",
    "/api/v1/studies/?page=%00",
    "/api/v1/studies/?%00=1",
    "/api/v1/references/?year_min=%00",
    "/api/v1/search/?q=ab%00cd",
    "/api/v1/matrix/?subtype=%00",
    "/api/v1/therapies/%00/",
    "/api/v1/therapies/ritux%00imab/",
    "/api/v1/studies/1%00/",
    "/api/v1/references/number/%00/",
    "/api/v1/subtypes/dm%00/",
    "/api/v1/designs/%00/",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_the_address_is_a_json_400_that_says_so(url):
    assert_json_error(Client().get(url), 400, "NUL character")


@pytest.mark.parametrize(
    "url",
    [
        "/studies/?q=%00",
        "/therapies/%00/",
        "/designs/%00/",
        "/references/?q=a%00",
        "/search/?q=%00",
    ],
)
def test_a_nul_in_a_page_address_is_a_400_page(url):
    response = Client().get(url)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/studies/?q=%ed%a0%80",
        "/api/v1/therapies/%ed%a0%80/",
        "/api/v1/studies/?therapy=%ed%b0%80x",
    ],
)
def test_a_lone_surrogate_in_the_address_is_never_a_server_error(url):
    # Django replaces bytes that are not UTF-8: no surrogate reaches a query.
    response = Client().get(url)
    assert response.status_code in (200, 400, 404)
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "body, phrase",
    [
        ('{"label": "a\\u0000b"}', "NUL character"),
        ('{"label": "a\\ud800b"}', "lone surrogate"),
        ('{"label": "ok", "outcomes": [{"measure": "\\udfff"}]}', "$.outcomes[0].measure"),
        ('{"la\\u0000bel": "x"}', "field name"),
        ('{"extra": {"deep": ["\\u0000"]}}', "$.extra.deep[0]"),
        (b'{"label": "\xed\xa0\x80"}', "JSON parse error"),  # a surrogate encoded as bytes
        (b'{"label": "\xff"}', "JSON parse error"),
    ],
)
def test_nul_and_lone_surrogates_in_a_json_body_are_a_400(curator_api, body, phrase):
    for url in ["/api/v1/studies/", "/api/v1/references/"]:
        response = curator_api.generic("POST", url, body, content_type="application/json")
        assert_json_error(response, 400, phrase)


def test_100k_nested_arrays_are_a_400(curator_api):
    body = "[" * 100_000 + "]" * 100_000
    assert_json_error(post_json(curator_api, "/api/v1/studies/", body), 400, "nested more than")


def test_nesting_just_past_the_bound_is_a_400_and_within_it_is_read(curator_api):
    from core.api.parsers import MAX_DEPTH

    too_deep = '{"label": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}"
    assert_json_error(
        post_json(curator_api, "/api/v1/studies/", too_deep),
        400,
        f"nested more than {MAX_DEPTH} levels deep (at $.label",
    )
    fine = post_json(curator_api, "/api/v1/studies/", '{"label": [[[]]]}')
    assert fine.status_code == 400 and "nested" not in fine.content.decode()  # a field error


def test_a_nul_in_an_admin_form_post_is_a_400(admin_client):
    response = admin_client.post("/admin/therapies/therapy/add/", {"name": "Bad\x00name"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


# -- the admin with odd parameters (PostgreSQL refuses NUL in text) -------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/evidence/study/?sample_size__gt=abc",
        "/admin/evidence/study/?o=999",
        "/admin/evidence/study/?o=abc.-x",
        "/admin/evidence/study/?q=%00",
        "/admin/evidence/study/?q=%ed%a0%80",
        "/admin/evidence/study/?design__exact=%00",
        "/admin/references/reference/?q=%00",
        "/admin/references/reference/?year__gte=%ff",
        "/admin/therapies/therapy/?q=" + "%25_" * 2000,
        "/admin/autocomplete/?app_label=evidence&model_name=study&field_name=therapies&term=%00",
        "/admin/autocomplete/?app_label=evidence&model_name=study&field_name=therapies&term=%ed%a0%80",
        "/admin/autocomplete/?app_label=evidence&model_name=study&field_name=nope&term=a",
        "/admin/autocomplete/?app_label=%00&model_name=study&field_name=therapies",
        "/admin/autocomplete/?app_label=evidence&model_name=study&field_name=therapies&page=abc",
    ],
)
def test_odd_admin_urls_are_never_a_server_error(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code < 500, (url, response.status_code)
