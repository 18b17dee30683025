"""The page cache (core/middleware.py, core/caching/pages.py) and the content generation
behind it (core/caching/generation.py), in one process. Several processes, with and without
Redis: test_cache_instances.py.
"""

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from core.caching import generation
from core.caching import pages as page_cache
from core.caching.local import LocalStore
from core.choices import ReviewStatus
from core.models import ContentGeneration
from evidence.models import DiseaseSubtype, Outcome, Provenance, Statement, Study
from references.models import Author, Reference
from therapies.models import DrugClass, Therapy, TherapyRationale

pytestmark = pytest.mark.django_db

HEADER = "X-Page-Cache"


@pytest.fixture(autouse=True)
def page_cache_on(cache_mode, settings):
    # On whatever MYOEVIDENCE_TEST_CACHES says (tests/conftest.py's cache_mode runs first and
    # empties this process's stores): these tests are about the page cache.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 300


def generation_reads(queries) -> int:
    return sum(ContentGeneration._meta.db_table in q["sql"] for q in queries)


def read(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 304), (url, response.status_code)
    return response


# -- serving from the cache -------------------------------------------------------------------


def test_an_anonymous_page_is_served_from_the_cache_with_one_query(
    client, django_assert_num_queries
):
    first = read(client, "/therapies/")
    assert first[HEADER] == "miss"
    # The one query is the content generation's: it says whether the stored page is current.
    with django_assert_num_queries(1):
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


class RecordingCache:
    """A stand-in for a shared cache that says what was asked of it."""

    def __init__(self):
        self.calls, self.data = [], {}

    def get(self, key, default=None):
        self.calls.append(("get", key))
        return self.data.get(key, default)

    def set_many(self, mapping, timeout=None):
        self.calls.append(("set_many", sorted(mapping)))
        self.data.update(mapping)


def test_a_hit_from_this_process_asks_the_shared_cache_nothing(client, monkeypatch):
    shared = RecordingCache()
    monkeypatch.setattr(page_cache, "shared_cache", lambda: shared)
    read(client, "/therapies/")  # miss: rendered, stored here and in the shared cache
    assert [call[0] for call in shared.calls] == ["get", "set_many"]
    shared.calls.clear()
    assert read(client, "/therapies/")[HEADER] == "hit"
    assert shared.calls == []


def test_a_page_stored_by_another_process_is_served_from_the_shared_cache(client, monkeypatch):
    shared = RecordingCache()
    monkeypatch.setattr(page_cache, "shared_cache", lambda: shared)
    first = read(client, "/therapies/")
    page_cache.reset()  # as if another process had rendered and shared it
    second = read(client, "/therapies/")
    assert second[HEADER] == "hit" and second.content == first.content


def test_a_request_reads_the_generation_once(client, settings):
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300  # the data cache reads it too
    with CaptureQueriesContext(connection) as queries:
        assert read(client, "/therapies/rituximab/")[HEADER] == "miss"
    assert generation_reads(queries) == 1


def test_local_copies_stay_within_their_byte_limit_and_lifetime(monkeypatch):
    local = LocalStore(lambda: 250)
    page = (200, [], b"x" * 100)
    local.put("a", 1, page, 100, 300)
    local.put("b", 1, page, 100, 300)
    assert local.get("a", 1) is page  # now the most recently used
    local.put("c", 1, page, 100, 300)  # over 250 bytes: the least recently used ("b") goes
    assert (local.get("a", 1), local.get("b", 1), local.get("c", 1)) == (page, None, page)
    local.put("big", 1, page, 251, 300)  # larger than the whole budget: not kept
    assert local.get("big", 1) is None and local.get("a", 1) is page
    assert local.get("a", 0) is None  # a request of an older generation: not served, kept
    local.put("a", 0, page, 100, 300)  # nor replaced by that request's older work
    assert local.get("a", 1) is page
    assert local.get("a", 2) is None  # a newer generation: old, and dropped
    assert local.get("a", 1) is None and local.size == 100
    from core.caching import local as local_module

    now = local_module.time.monotonic()
    monkeypatch.setattr(local_module.time, "monotonic", lambda: now + 301)  # past 300 s
    assert local.get("c", 1) is None


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


@pytest.mark.parametrize(
    ("url", "status"),
    [("/references/?q=a%00b", 400), ("/references/?q=" + "a" * 40_000, 414)],
)
def test_the_checks_below_the_cache_answer_a_bad_address_every_time(client, url, status):
    # The page cache sits above them: a bad address is never stored, so it is a miss each time.
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == status
        assert HEADER not in response


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
    # Served from this process's copy (core.caching.local): that copy must not outlive
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
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        get().save()
    saved = generation.current()
    assert saved == before + 1
    if model in (Author, Outcome, Provenance):  # rows others do not protect
        with django_capture_on_commit_callbacks(execute=True):
            get().delete()
        assert generation.current() == saved + 1


def test_many_to_many_changes_bump_the_generation(django_capture_on_commit_callbacks):
    study = Study.objects.first()
    therapy = Therapy.objects.exclude(studies=study).first()
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        study.therapies.add(therapy)
    assert generation.current() == before + 1
    with django_capture_on_commit_callbacks(execute=True):
        study.therapies.remove(therapy)
    assert generation.current() == before + 2


def test_a_transaction_bumps_once_inside_itself(django_capture_on_commit_callbacks):
    """The increment is part of the writing transaction: seen with its content, by it at once
    and by others when it commits; once however many rows it writes."""
    before = generation.current()
    with django_capture_on_commit_callbacks() as callbacks:
        with transaction.atomic():
            for study in Study.objects.all()[:5]:
                study.save()
            assert generation.uncommitted_changes()
            assert generation.current() == before + 1
    assert generation.current() == before + 1
    assert len([c for c in callbacks if isinstance(c, generation._Bumped)]) == 1


def test_a_rolled_back_change_does_not_bump(django_capture_on_commit_callbacks):
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                Therapy.objects.first().save()
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert generation.current() == before
    assert not generation.uncommitted_changes()


def test_a_change_after_a_rolled_back_savepoint_still_bumps(django_capture_on_commit_callbacks):
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    Therapy.objects.first().save()
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass
            Study.objects.first().save()
    assert generation.current() == before + 1


def test_a_lost_generation_starts_afresh_not_at_an_old_number(django_capture_on_commit_callbacks):
    old = generation.current()
    ContentGeneration.objects.all().delete()  # e.g. a flushed database
    assert generation.current() not in (None, old)
    ContentGeneration.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        generation.content_changed()  # nothing to increment: a new random number
    assert generation.current() not in (None, old, old + 1)


def test_history_tables_do_not_count_as_content():
    models = generation.content_models()
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


def test_pages_are_cached_in_this_process_when_the_shared_cache_is_down(client):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        first = client.get("/therapies/")
        second = client.get("/therapies/")
    assert first.status_code == second.status_code == 200
    assert (first[HEADER], second[HEADER]) == ("miss", "hit")
    assert second.content == first.content


def test_a_write_succeeds_when_the_cache_is_down(django_capture_on_commit_callbacks):
    with override_settings(CACHES=UNREACHABLE_REDIS):
        with django_capture_on_commit_callbacks(execute=True):
            therapy = Therapy.objects.first()
            therapy.status = ReviewStatus.PUBLISHED
            therapy.save()  # the generation is in the database: Redis plays no part
    assert Therapy.objects.filter(pk=therapy.pk, status=ReviewStatus.PUBLISHED).exists()


# -- configuration ----------------------------------------------------------------------------


def test_cache_url_chooses_the_backend():
    from config.settings import cache_from_url

    # Django's own backend, no subclass of ours (issue 15).
    assert cache_from_url("redis://127.0.0.1:6379/1")["BACKEND"] == (
        "django.core.cache.backends.redis.RedisCache"
    )
    assert cache_from_url("locmem://")["BACKEND"].endswith("LocMemCache")
    assert cache_from_url("dummy://")["BACKEND"].endswith("DummyCache")
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        cache_from_url("memcached://127.0.0.1:11211")


def test_the_threads_of_a_process_share_one_redis_connection_pool():
    """Django keeps a cache backend per thread; with Redis their connections come from one
    pool per process and server (core.caching.shared.SharedConnectionPool), so a thread that
    has not asked Redis before does not open a connection of its own on a reader's request."""
    import threading

    from django.core.cache import caches

    from config.settings import cache_from_url

    redis_config = cache_from_url("redis://127.0.0.1:6379/1")
    other_config = cache_from_url("redis://127.0.0.1:6379/2")
    pools = []

    def backend_pool(config):
        # A backend as each thread's ``caches[...]`` builds it; making a pool connects nothing.
        with override_settings(CACHES={"default": config}):
            backend = caches.create_connection("default")
        pools.append(backend._cache.get_client().connection_pool)

    threads = [threading.Thread(target=backend_pool, args=(redis_config,)) for _ in range(2)]
    threads.append(threading.Thread(target=backend_pool, args=(other_config,)))
    for thread in threads:
        thread.start()
        thread.join()
    assert pools[0] is pools[1]
    assert pools[2] is not pools[0]  # another database: another pool
    assert pools[0].connection_kwargs["db"] == 1 and pools[2].connection_kwargs["db"] == 2
    # The options Django passes (timeouts, its parser) reach the shared pool.
    assert pools[0].connection_kwargs["socket_timeout"] == 1
