"""The per-generation data cache (core.cache.memoize) and the pages and API built on it."""

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from core import cache as data_cache
from core.choices import ReviewStatus
from evidence.models import Study
from tests.core.test_cache import UNREACHABLE_REDIS
from tests.factories import make_studies
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_cache_on(page_cache_off, settings):
    # Overrides tests/conftest.py (which turns it off for every other test).
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


class Counter:
    """A computation that says how often it ran."""

    def __init__(self, value="value"):
        self.calls, self.value = 0, value

    def __call__(self):
        self.calls += 1
        return self.value


def test_a_value_is_computed_once_per_generation():
    compute = Counter()
    assert data_cache.memoize("t", "k", compute) == "value"
    assert data_cache.memoize("t", "k", compute) == "value"
    assert compute.calls == 1
    data_cache.bump()
    assert data_cache.memoize("t", "k", compute) == "value"
    assert compute.calls == 2


def test_names_and_keys_keep_values_apart():
    first, second = Counter("first"), Counter("second")
    assert data_cache.memoize("t", "a", first) == "first"
    assert data_cache.memoize("t", "b", second) == "second"
    assert data_cache.memoize("u", "a", second) == "second"
    assert (first.calls, second.calls) == (1, 2)


def test_off_no_key_or_cache_down_means_computed_every_time(settings):
    compute = Counter()
    data_cache.memoize("t", None, compute)
    data_cache.memoize("t", None, compute)
    assert compute.calls == 2
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 0
    data_cache.memoize("t", "k", compute)
    data_cache.memoize("t", "k", compute)
    assert compute.calls == 4
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert data_cache.memoize("t", "k", compute) == "value"
    assert compute.calls == 5


def test_a_transaction_with_uncommitted_changes_neither_reads_nor_stores():
    compute = Counter("before")
    data_cache.memoize("t", "k", compute)
    with transaction.atomic():
        therapy = Therapy.objects.first()
        therapy.save()  # a content change: its bump waits for the commit
        inside = Counter("inside")
        assert data_cache.memoize("t", "k", inside) == "inside"
        assert data_cache.memoize("t", "k", inside) == "inside"
        assert inside.calls == 2
        transaction.set_rollback(True)
    # The rolled-back transaction left nothing behind.
    assert data_cache.memoize("t", "k", compute) == "before"
    assert compute.calls == 1


def test_queryset_keys_follow_the_sql_and_the_readers_visibility(admin_user):
    public = Study.objects.restrict(None)
    staff = Study.objects.restrict(admin_user)
    assert data_cache.queryset_key(public) == data_cache.queryset_key(Study.objects.published())
    assert data_cache.queryset_key(public) != data_cache.queryset_key(staff)
    assert data_cache.queryset_key(public.filter(design="rct_parallel")) != data_cache.queryset_key(
        public.filter(design="case_report")
    )
    assert data_cache.queryset_key(Study.objects.none()) is None


def test_count_by_counts_links_once_per_generation(django_assert_num_queries):
    expected = {
        t.pk: Study.objects.published().filter(therapies=t).count() for t in Therapy.objects.all()
    }
    counts = data_cache.count_by(Study.objects.published(), "therapies")
    assert {pk: counts.get(pk, 0) for pk in expected} == expected
    with django_assert_num_queries(0):
        assert data_cache.count_by(Study.objects.published(), "therapies") == counts


# -- pages and API: fewer queries when warm, fresh at once after a change -------------------

WARM_PAGES = [
    "/",
    "/therapies/",
    "/therapies/rituximab/",
    "/subtypes/",
    "/studies/?subtype=dm",
    "/search/?q=rituximab",
    "/api/v1/studies/",
    "/api/v1/therapies/",
    "/api/v1/subtypes/",
    "/api/v1/studies/counts/",
]


@pytest.mark.parametrize("url", WARM_PAGES)
def test_a_warm_data_cache_saves_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200
    assert len(warm) < len(cold), url


def change(django_capture_on_commit_callbacks, edit):
    with django_capture_on_commit_callbacks(execute=True):
        edit()


def test_a_new_study_shows_at_once_in_counts_matrix_chart_and_search(
    client, django_capture_on_commit_callbacks
):
    rituximab = Therapy.objects.get(slug="rituximab")
    before = {
        url: client.get(url)
        for url in (
            "/therapies/",
            "/api/v1/therapies/rituximab/",
            "/therapies/rituximab/",
            "/search/?q=zanubrutinib",
        )
    }
    count = Study.objects.published().filter(therapies=rituximab).count()
    assert before["/api/v1/therapies/rituximab/"].json()["study_count"] == count
    assert b"Zanubrutinib then rituximab" not in before["/search/?q=zanubrutinib"].content

    def add():
        study = make_studies(1)[0]
        study.therapies.set([rituximab])  # m2m_changed: a signal, so a bump on commit
        Study.objects.filter(pk=study.pk).update(label="Zanubrutinib then rituximab")

    change(django_capture_on_commit_callbacks, add)
    assert client.get("/api/v1/therapies/rituximab/").json()["study_count"] == count + 1
    caption = f"Studies of {rituximab.name} ({count + 1})"
    assert caption.encode() in client.get("/therapies/rituximab/").content
    assert b"Zanubrutinib then rituximab" in client.get("/search/?q=zanubrutinib").content


def test_staff_and_public_counts_are_kept_apart(
    client, admin_client, django_capture_on_commit_callbacks
):
    rituximab = Therapy.objects.get(slug="rituximab")

    def draft():
        study = make_studies(1)[0]
        study.therapies.set([rituximab])
        Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)

    change(django_capture_on_commit_callbacks, draft)
    public = client.get("/api/v1/therapies/rituximab/").json()["study_count"]
    staff = admin_client.get("/api/v1/therapies/rituximab/").json()["study_count"]
    assert staff == public + 1
    assert client.get("/api/v1/therapies/rituximab/").json()["study_count"] == public
