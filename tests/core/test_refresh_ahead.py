"""Refresh ahead (core.caching.refresh, core.middleware.RefreshAheadMiddleware): a request that
commits a content change renders again, as an anonymous reader, the pages readers needed
computed, so that the next reader computes nothing and sees the change."""

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, TestCase

from core.caching import generation, refresh
from tests.core.test_api_writes import if_match, new_study
from therapies.models import Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

THERAPY = "/therapies/rituximab/"
THERAPY_API = "/api/v1/therapies/rituximab/"
DRAFT_LABEL = "Unpublished refresh-ahead probe"


class CommitAtTheEndOfTheView:
    """Test only: each test runs in one transaction that is never committed, so the on-commit
    callbacks of a write (the generation's) are run where a real commit would run them, when
    the view returns: below the refresh, as ``ATOMIC_REQUESTS`` or a service's own atomic
    block would commit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return self.get_response(request)


def turn_refresh_on(settings, *, page_cache_seconds: int) -> None:
    """Whatever MYOEVIDENCE_TEST_CACHES says: the data cache on, the refresh ahead on, and
    commits run where a real one would (``CommitAtTheEndOfTheView``)."""
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = page_cache_seconds
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300
    settings.MYOEVIDENCE_REFRESH_AHEAD_SECONDS = 30
    settings.MYOEVIDENCE_REFRESH_AHEAD_PAGES = 8
    settings.MYOEVIDENCE_REFRESH_AHEAD_HOT_SECONDS = 3600
    middleware = list(settings.MIDDLEWARE)
    assert middleware[0] == "core.middleware.RefreshAheadMiddleware"
    settings.MIDDLEWARE = [middleware[0], f"{__name__}.CommitAtTheEndOfTheView", *middleware[1:]]


@pytest.fixture(autouse=True)
def refresh_on(cache_mode, settings):
    # Pages rendered (page cache off) from fragments and values kept per generation, and
    # refreshed after a change.
    turn_refresh_on(settings, page_cache_seconds=0)


@pytest.fixture
def computed(monkeypatch):
    """How many fragments and values were computed (each calls ``refresh.note_computed``)."""
    calls = []
    original = refresh.note_computed

    def counting():
        calls.append(1)
        original()

    monkeypatch.setattr(refresh, "note_computed", counting)
    return calls


def paths() -> list[tuple[str, str]]:
    return [(path, query) for path, query, _ in refresh.hot_pages()]


def edit_summary(client, text: str) -> None:
    response = client.patch(
        THERAPY_API, {"review_summary": text}, format="json", **if_match(client, THERAPY_API)
    )
    assert response.status_code == 200, response.content[:300]


def test_after_a_change_the_next_reader_computes_nothing_and_sees_it(editor_api, computed):
    reader = Client()
    assert "Summary refreshed ahead." not in reader.get(THERAPY).content.decode()
    assert computed and paths() == [(THERAPY, "")]
    edit_summary(editor_api, "Summary refreshed ahead.")
    computed.clear()
    page = reader.get(THERAPY)
    assert page.status_code == 200
    assert "Summary refreshed ahead." in page.content.decode()
    assert computed == []


def test_without_it_the_first_reader_after_a_change_computes_the_page(
    editor_api, computed, settings
):
    settings.MYOEVIDENCE_REFRESH_AHEAD_SECONDS = 0
    reader = Client()
    reader.get(THERAPY)
    edit_summary(editor_api, "Summary not refreshed ahead.")
    computed.clear()
    assert "Summary not refreshed ahead." in reader.get(THERAPY).content.decode()
    assert computed


def test_the_pages_are_rendered_as_an_anonymous_reader_whoever_changed_content(
    curator_api, client, curator, computed
):
    url = "/studies/?design=guideline"
    reader = Client()
    assert DRAFT_LABEL not in reader.get(url).content.decode()
    created = curator_api.post(
        "/api/v1/studies/", new_study(label=DRAFT_LABEL, design="guideline"), format="json"
    )
    assert created.status_code == 201, created.json()
    computed.clear()
    assert DRAFT_LABEL not in reader.get(url).content.decode()
    assert computed == []  # the refreshed page, rendered for readers
    assert DRAFT_LABEL in client.get(url).content.decode()  # the curator's own view


def test_only_anonymous_reads_that_computed_something_are_remembered(client, curator):
    reader = Client()
    assert client.get(THERAPY).status_code == 200  # a curator's view
    assert reader.get("/therapies/no-such-therapy/").status_code == 404
    assert reader.get("/studies/export.csv").streaming  # an export
    assert paths() == []
    assert reader.get(THERAPY).status_code == 200
    assert reader.get("/references/", {"q": "rituximab"}).status_code == 200
    assert paths() == [("/references/", "q=rituximab"), (THERAPY, "")]
    reader.get(THERAPY)  # found in the caches: nothing computed, nothing to remember
    assert paths() == [("/references/", "q=rituximab"), (THERAPY, "")]


def test_an_api_page_is_replayed_with_the_accept_header_it_varies_on():
    Client().get("/api/v1/studies/", HTTP_ACCEPT="application/json")
    ((path, _, headers),) = refresh.hot_pages()
    assert path == "/api/v1/studies/"
    assert ("HTTP_ACCEPT", "application/json") in headers


def test_the_refresh_keeps_to_its_page_limit_and_time(settings):
    reader = Client()
    for url in (THERAPY, "/references/", "/studies/"):
        reader.get(url)
    assert len(refresh.hot_pages()) == 3
    settings.MYOEVIDENCE_REFRESH_AHEAD_PAGES = 2
    assert [path for path, _, _ in refresh.hot_pages()] == ["/studies/", "/references/"]
    assert refresh.refresh() == 2
    settings.MYOEVIDENCE_REFRESH_AHEAD_SECONDS = 1e-9
    assert refresh.refresh() == 0
    settings.MYOEVIDENCE_REFRESH_AHEAD_SECONDS = 0
    assert not refresh.enabled() and refresh.refresh() == 0


def test_old_pages_are_not_refreshed(settings, monkeypatch):
    Client().get(THERAPY)
    assert paths() == [(THERAPY, "")]
    later = refresh.time.time() + 3601
    monkeypatch.setattr(refresh.time, "time", lambda: later)
    assert paths() == []


def test_the_hot_pages_are_shared_with_other_processes(monkeypatch):
    shared = LocMemCache("refresh-ahead-test", {})
    monkeypatch.setattr(refresh, "shared_cache", lambda: shared)
    Client().get(THERAPY)
    refresh.forget_hot_pages()  # as seen by another process
    assert paths() == [(THERAPY, "")]
    assert list(shared.get(refresh.HOT_KEY)) == refresh.hot_pages()


def test_a_page_that_is_gone_is_not_refreshed_again(
    monkeypatch, django_capture_on_commit_callbacks
):
    shared = LocMemCache("refresh-ahead-gone", {})
    monkeypatch.setattr(refresh, "shared_cache", lambda: shared)
    reader = Client()
    reader.get(THERAPY)
    reader.get("/references/")
    with django_capture_on_commit_callbacks(execute=True):
        Therapy.objects.filter(slug="rituximab").update(slug="rituximab-renamed")
        generation.content_changed()
    assert refresh.refresh() == 2
    assert paths() == [("/references/", "")]
    assert [path for path, _, _ in shared.get(refresh.HOT_KEY)] == ["/references/"]


def test_a_page_read_through_the_https_proxy_is_replayed_as_https(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    Client().get(THERAPY, HTTP_X_FORWARDED_PROTO="https", HTTP_X_UNRELATED="not kept")
    ((path, query, headers),) = refresh.hot_pages()
    replayed = refresh._request_for((path, query, headers))
    assert replayed.is_secure() and replayed.get_full_path() == THERAPY
    assert "HTTP_X_UNRELATED" not in dict(headers)
