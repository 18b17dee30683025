"""The page cache (core/middleware.py) and the content generation behind it (core/cache.py),
in one process with the local-memory cache. Two instances sharing Redis: test_cache_instances.py.
"""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from core import cache as page_cache
from core.choices import ReviewStatus
from evidence.models import DiseaseSubtype, Outcome, Provenance, Statement, Study
from references.models import Author, Reference
from therapies.models import DrugClass, Therapy, TherapyRationale

pytestmark = pytest.mark.django_db

HEADER = "X-Page-Cache"


@pytest.fixture(autouse=True)
def page_cache_on(page_cache_off, settings):
    # Overrides tests/conftest.py's page_cache_off (which runs first) for this module only.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 300
    cache.clear()
    page_cache.local_pages.clear()
    yield
    cache.clear()
    page_cache.local_pages.clear()


def read(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 304), (url, response.status_code)
    return response


# -- serving from the cache -------------------------------------------------------------------


def test_an_anonymous_page_is_served_from_the_cache_without_any_query(
    client, django_assert_num_queries
):
    first = read(client, "/therapies/")
    assert first[HEADER] == "miss"
    with django_assert_num_queries(0):
        second = read(client, "/therapies/")
    assert second[HEADER] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_a_hit_carries_the_security_headers_of_a_fresh_page(client):
    first = read(client, "/therapies/rituximab/")
    second = read(client, "/therapies/rituximab/")
    assert (first[HEADER], second[HEADER]) == ("miss", "hit")
    for name in (
        "Content-Security-Policy",
        "Permissions-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "X-Frame-Options",
        "Content-Type",
    ):
        assert second.get(name) and second.get(name) == first.get(name), name
    assert second["X-Request-ID"] != first["X-Request-ID"]  # per request, never stored


# -- this process's copies of pages ----------------------------------------------------------


def test_a_hit_reads_only_the_generation_when_the_process_holds_the_page(client, monkeypatch):
    read(client, "/therapies/")  # miss: rendered, stored in both places
    reads = []
    real_get, real_get_many = cache.get, cache.get_many
    monkeypatch.setattr(
        cache, "get", lambda key, *a, **k: reads.append(key) or real_get(key, *a, **k)
    )
    monkeypatch.setattr(
        cache, "get_many", lambda keys, *a, **k: reads.extend(keys) or real_get_many(keys, *a, **k)
    )
    assert read(client, "/therapies/")[HEADER] == "hit"
    assert reads == [page_cache.GENERATION_KEY]


def test_local_copies_stay_within_their_byte_limit_and_lifetime(settings, monkeypatch):
    local = page_cache.LocalPages()
    page = (1, 200, [], b"x" * 100)
    settings.MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES = 250
    local.put("a", page)
    local.put("b", page)
    assert local.get("a") is page  # now the most recently used
    local.put("c", page)  # over 250 bytes: the least recently used ("b") goes
    assert (local.get("a"), local.get("b"), local.get("c")) == (page, None, page)
    local.put("big", (1, 200, [], b"x" * 251))  # larger than the whole budget: not kept
    assert local.get("big") is None and local.get("a") is page
    now = page_cache.time.monotonic()
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now + 301)  # past 300 s
    assert local.get("a") is None


def test_a_head_request_is_answered_from_a_cached_get(client):
    read(client, "/therapies/")
    assert client.head("/therapies/")[HEADER] == "hit"


def test_the_query_string_is_part_of_the_key(client):
    read(client, "/studies/?design=case_report")
    assert read(client, "/studies/?design=rct_parallel")[HEADER] == "miss"
    assert read(client, "/studies/?design=case_report")[HEADER] == "hit"


def test_the_cache_can_be_turned_off(client, settings):
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
    read(client, "/therapies/")
    assert HEADER not in read(client, "/therapies/")


# -- what is never cached ---------------------------------------------------------------------


def test_signed_in_staff_are_never_served_the_anonymous_page(client, admin_client):
    anonymous = read(client, "/therapies/")
    read(client, "/therapies/")
    staff = read(admin_client, "/therapies/")
    assert HEADER not in staff  # neither looked up nor stored: staff see drafts
    assert read(client, "/therapies/").content == anonymous.content


def test_the_admin_and_the_health_check_are_not_cached(client):
    assert HEADER not in client.get("/healthz")
    assert HEADER not in client.get("/admin/login/")


def test_streamed_exports_are_not_cached(client):
    for url in ("/studies/export.csv", "/references/export/bibtex/"):
        response = client.get(url)
        b"".join(response.streaming_content)
        assert HEADER not in response
        assert HEADER not in client.get(url)


def test_errors_and_posts_are_not_cached(client):
    assert client.get("/no-such-page/").status_code == 404
    assert HEADER not in client.get("/no-such-page/")
    assert HEADER not in client.post("/therapies/")


def test_a_token_or_a_session_cookie_bypasses_the_cache(client):
    read(client, "/api/v1/therapies/")
    assert read(client, "/api/v1/therapies/")[HEADER] == "hit"
    assert HEADER not in client.get("/api/v1/therapies/", HTTP_AUTHORIZATION="Token nope")
    client.cookies["sessionid"] = "whatever"
    assert HEADER not in client.get("/api/v1/therapies/")


def test_an_unknown_host_is_refused_as_without_the_cache(client):
    assert client.get("/therapies/", headers={"Host": "evil.example"}).status_code == 400


def test_a_response_that_sets_a_cookie_is_not_stored(client):
    # The login form puts a CSRF cookie on the response: personal, never shared.
    with override_settings(MYOEVIDENCE_PAGE_CACHE_EXCLUDE=()):
        response = client.get("/admin/login/")
        assert response.cookies
        assert HEADER not in response
        assert HEADER not in client.get("/admin/login/")


def test_api_responses_vary_by_accept_and_keep_answering_if_none_match(client):
    json_first = read(client, "/api/v1/therapies/", Accept="application/json")
    assert read(client, "/api/v1/therapies/", Accept="application/json")[HEADER] == "hit"
    assert read(client, "/api/v1/therapies/", Accept="*/*")[HEADER] == "miss"
    etag = json_first["ETag"]
    again = client.get(
        "/api/v1/therapies/", headers={"Accept": "application/json", "If-None-Match": etag}
    )
    assert again.status_code == 304


# -- invalidation -----------------------------------------------------------------------------


def test_a_content_change_is_on_the_next_page_at_once(client, django_capture_on_commit_callbacks):
    read(client, "/therapies/")
    # Served from this process's copy (core.cache.LocalPages): that copy must not outlive
    # the change either.
    assert read(client, "/therapies/")[HEADER] == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        therapy = Therapy.objects.get(slug="rituximab")
        therapy.name = "Rituximab (renamed)"
        therapy.save()
    fresh = read(client, "/therapies/")
    assert fresh[HEADER] == "miss"
    assert b"Rituximab (renamed)" in fresh.content


def content_rows():
    """One existing row of every content model, with a harmless change to save."""
    return [
        (Reference, lambda: Reference.objects.get(number=1)),
        (Author, lambda: Author.objects.first()),
        (DrugClass, lambda: DrugClass.objects.first()),
        (Therapy, lambda: Therapy.objects.first()),
        (TherapyRationale, lambda: TherapyRationale.objects.first()),
        (DiseaseSubtype, lambda: DiseaseSubtype.objects.first()),
        (Study, lambda: Study.objects.first()),
        (Outcome, lambda: Outcome.objects.first()),
        (Provenance, lambda: Provenance.objects.first()),
        (Statement, lambda: Statement.objects.first()),
    ]


@pytest.mark.parametrize("model,get", content_rows(), ids=lambda v: getattr(v, "__name__", ""))
def test_saving_or_deleting_any_content_model_bumps_the_generation(
    model, get, django_capture_on_commit_callbacks
):
    before = page_cache.generation()
    with django_capture_on_commit_callbacks(execute=True):
        get().save()
    saved = page_cache.generation()
    assert saved == before + 1
    if model in (Author, Outcome, Provenance):  # rows others do not protect
        with django_capture_on_commit_callbacks(execute=True):
            get().delete()
        assert page_cache.generation() == saved + 1


def test_many_to_many_changes_bump_the_generation(django_capture_on_commit_callbacks):
    study = Study.objects.first()
    therapy = Therapy.objects.exclude(studies=study).first()
    before = page_cache.generation()
    with django_capture_on_commit_callbacks(execute=True):
        study.therapies.add(therapy)
    assert page_cache.generation() == before + 1
    with django_capture_on_commit_callbacks(execute=True):
        study.therapies.remove(therapy)
    assert page_cache.generation() == before + 2


def test_a_transaction_bumps_once_when_it_commits(django_capture_on_commit_callbacks):
    before = page_cache.generation()
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            for study in Study.objects.all()[:5]:
                study.save()
        assert page_cache.generation() == before  # nothing before the commit
    assert len([c for c in callbacks if isinstance(c, page_cache._PendingBump)]) == 1


def test_a_rolled_back_change_does_not_bump(django_capture_on_commit_callbacks):
    before = page_cache.generation()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                Therapy.objects.first().save()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert page_cache.generation() == before


def test_a_change_after_a_rolled_back_savepoint_still_bumps(django_capture_on_commit_callbacks):
    before = page_cache.generation()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    Therapy.objects.first().save()
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass
            Study.objects.first().save()
    assert page_cache.generation() == before + 1


def test_a_lost_generation_starts_afresh_not_at_an_old_number():
    old = page_cache.generation()
    cache.clear()
    assert page_cache.generation() != old
    cache.delete(page_cache.GENERATION_KEY)
    page_cache.bump()  # a bump with nothing to increment starts a new random generation
    assert page_cache.generation() not in (None, old)


def test_history_tables_do_not_count_as_content():
    models = page_cache.content_models()
    assert Study in models and Reference in models
    assert not any(m.__name__.startswith("Historical") for m in models)


# -- a cache outage ---------------------------------------------------------------------------

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_pages_are_served_uncached_when_the_cache_is_down(client):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = client.get("/therapies/")
    assert response.status_code == 200
    assert HEADER not in response


def test_a_write_succeeds_when_the_cache_is_down(django_capture_on_commit_callbacks):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        with django_capture_on_commit_callbacks(execute=True):
            therapy = Therapy.objects.first()
            therapy.status = ReviewStatus.PUBLISHED
            therapy.save()  # the bump fails and is logged; the save stands
    assert Therapy.objects.filter(pk=therapy.pk, status=ReviewStatus.PUBLISHED).exists()


# -- configuration ----------------------------------------------------------------------------


def test_cache_url_chooses_the_backend():
    from config.settings import cache_from_url

    assert cache_from_url("redis://127.0.0.1:6379/1")["BACKEND"].endswith("RedisCache")
    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
    assert cache_from_url("dummy://")["BACKEND"].endswith("DummyCache")
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        cache_from_url("memcached://127.0.0.1:11211")
