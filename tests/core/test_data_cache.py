"""The per-generation data cache (core.caching.data.per_generation) and the pages and API built
on it."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import QueryDict
from django.test import override_settings

from core.caching import generation
from core.caching.data import count_by, key_for, per_generation
from core.choices import ReviewStatus
from evidence.models import Study
from tests.core.test_cache import UNREACHABLE_REDIS
from tests.factories import make_studies
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_cache_on(cache_mode, settings):
    # On whatever MYOEVIDENCE_TEST_CACHES says (tests/conftest.py's cache_mode runs first and
    # empties this process's stores): these tests are about the data cache.
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300


CALLS: list[tuple] = []


@per_generation
def recorded(first, second=None, *, third="default"):
    """A selector that says each time it runs, and returns a fresh list."""
    CALLS.append((first, second, third))
    return [len(CALLS)]


@per_generation
def other(first, second=None, *, third="default"):
    CALLS.append(("other", first))
    return [len(CALLS)]


@pytest.fixture(autouse=True)
def no_calls():
    CALLS.clear()


def bump(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        generation.content_changed()


def test_a_value_is_computed_once_per_generation(django_capture_on_commit_callbacks):
    assert recorded(1) == recorded(1) == [1]
    assert len(CALLS) == 1
    bump(django_capture_on_commit_callbacks)
    assert recorded(1) == [2]
    assert len(CALLS) == 2


def test_every_caller_gets_its_own_copy():
    recorded(1).append("changed by a caller")
    assert recorded(1) == [1]


@per_generation
def text(first):
    CALLS.append(("text", first))
    return "⊕ rendered " * first


def test_a_string_is_kept_as_itself_and_anything_else_as_a_copy(monkeypatch):
    """A string is served as the very object computed (nothing can change it), without the
    pickle round trip; a list is unpickled afresh for every caller."""
    import pickle
    import sys

    from core.caching import data

    loads = []
    real_loads = pickle.loads
    monkeypatch.setattr(
        "core.caching.data.pickle.loads", lambda pickled: loads.append(1) or real_loads(pickled)
    )
    first = text(3)
    # Counted against the process's limit by what it holds (two bytes a character here).
    assert data.local_values.size == sys.getsizeof(first) > 2 * len(first)
    assert text(3) is first
    assert first == "⊕ rendered " * 3
    assert loads == []
    # The first caller gets the list computed, the second a copy from its pickle.
    assert recorded(1) is not recorded(1)
    assert len(loads) == 1
    assert len(CALLS) == 2


def test_different_functions_never_share_a_value():
    assert recorded(1) == [1]
    assert other(1) == [2]


def visible(user):
    return Study.objects.restrict(user)


def differing_arguments(curator):
    """Pairs of argument sets that differ in exactly one argument."""
    dm, pm = ("dm",), ("pm",)
    return [
        ((1,), ("1",)),  # same text, another type
        ((1,), (True,)),
        ((1.0,), (1,)),
        ((None,), ("None",)),
        ((Study.objects.published(),), (Study.objects.all(),)),
        ((Study.objects.filter(design="case_report"),), (Study.objects.filter(design="rct"),)),
        ((visible(None),), (visible(curator),)),  # the reader's visibility is in the SQL
        ((AnonymousUser(),), (curator,)),
        ((Therapy.objects.first(),), (Therapy.objects.last(),)),
        ((Therapy.objects.first(),), (Study.objects.get(pk=Therapy.objects.first().pk),)),
        (({"design": "rct"},), ({"design": "case_report"},)),
        ((QueryDict("subtype=dm&subtype=pm"),), (QueryDict("subtype=dm"),)),
        ((dm,), (pm,)),
        (([1, 2],), ([2, 1],)),
        (({1, 2},), ({1, 3},)),
        ((datetime.date(2020, 1, 1),), (datetime.date(2020, 1, 2),)),
        ((ReviewStatus.PUBLISHED,), (ReviewStatus.DRAFT,)),
        ((1, 2), (1, 3)),  # the second argument
        ((1,), (1, "x")),  # an argument left at its default and one given
    ]


def test_two_calls_differing_in_any_one_argument_never_share_a_value(
    curator, django_capture_on_commit_callbacks
):
    for first, second in differing_arguments(curator):
        CALLS.clear()
        bump(django_capture_on_commit_callbacks)  # nothing left from the pair before
        a, b = recorded(*first), recorded(*second)
        assert len(CALLS) == 2 and a == [1] and b == [2], (first, second)
    assert key_for(recorded.uncached, 1, third="a") != key_for(recorded.uncached, 1, third="b")


def test_the_same_arguments_spelt_differently_share_a_value(curator):
    assert key_for(recorded.uncached, 1, None) == key_for(recorded.uncached, first=1)
    assert key_for(recorded.uncached, 1) == key_for(recorded.uncached, 1, third="default")
    assert key_for(recorded.uncached, {"a": 1, "b": 2}) == key_for(
        recorded.uncached, {"b": 2, "a": 1}
    )
    assert key_for(recorded.uncached, visible(None)) == key_for(
        recorded.uncached, Study.objects.published()
    )
    # Users are keyed by what they may see, not by who they are.
    from tests.factories import staff

    assert key_for(recorded.uncached, curator) == key_for(
        recorded.uncached, staff("curator2", "Curators")
    )
    assert key_for(recorded.uncached, curator) != key_for(recorded.uncached, AnonymousUser())


def test_an_argument_of_an_unknown_kind_is_refused_not_ignored():
    with pytest.raises(TypeError, match="no key for an argument of type object"):
        recorded(object())
    with pytest.raises(TypeError, match="unsaved"):
        recorded(Therapy(name="Not saved"))
    assert CALLS == []


def test_off_or_an_empty_queryset_means_computed_every_time(settings):
    recorded(Study.objects.none())
    recorded(Study.objects.none())  # no SQL to key it by
    assert len(CALLS) == 2
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 0
    recorded(1)
    recorded(1)
    assert len(CALLS) == 4


def test_a_shared_cache_outage_still_keeps_the_value_in_this_process():
    with override_settings(CACHES=UNREACHABLE_REDIS):
        assert recorded(1) == recorded(1) == [1]
    assert len(CALLS) == 1


def test_a_transaction_with_uncommitted_changes_neither_reads_nor_stores():
    assert recorded("k") == [1]
    with transaction.atomic():
        therapy = Therapy.objects.first()
        therapy.save()  # a content change, not committed yet
        assert recorded("k") == [2]
        assert recorded("k") == [3]
        transaction.set_rollback(True)
    # The rolled-back transaction left nothing behind.
    assert recorded("k") == [1]
    assert len(CALLS) == 3


def test_count_by_counts_links_once_per_generation(django_assert_num_queries):
    expected = {
        t.pk: Study.objects.published().filter(therapies=t).count() for t in Therapy.objects.all()
    }
    counts = count_by(Study.objects.published(), "therapies")
    assert {pk: counts.get(pk, 0) for pk in expected} == expected
    # Outside a request the generation is read on every call: that is the one query.
    with django_assert_num_queries(1):
        assert count_by(Study.objects.published(), "therapies") == counts


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


def test_an_api_list_page_is_kept_rendered_per_media_type(client, monkeypatch):
    from rest_framework.renderers import JSONRenderer

    url = "/api/v1/studies/?page_size=2"
    fresh = client.get(url).content
    encoded = []
    original = JSONRenderer.render
    monkeypatch.setattr(
        JSONRenderer, "render", lambda *a, **k: encoded.append(1) or original(*a, **k)
    )

    assert client.get(url).content == fresh  # the same bytes, not encoded again
    assert encoded == []
    indented = client.get(url, headers={"Accept": "application/json; indent=2"})
    assert indented.json() == client.get(url).json()
    assert indented.content != fresh
    assert indented.content.startswith(b'{\n  "count"')
    assert encoded == [1]


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
