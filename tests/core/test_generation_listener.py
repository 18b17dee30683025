"""The generation heard from PostgreSQL's notifications (core/caching/listener.py).

The test's own transaction is never committed, so every change these tests announce is made
on a connection of their own, committed for real (the generation just moves on: nothing
depends on its value).
"""

import select
import time

import psycopg2
import pytest
from django.db import connection, connections, transaction

from core.caching import generation
from core.caching import listener as listener_module
from core.caching.listener import CHANNEL, listener

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="notifications are PostgreSQL's"
)
pytestmark = pytest.mark.django_db


def raw_connection():
    conn = psycopg2.connect(**connections["default"].get_connection_params())
    conn.autocommit = True
    return conn


def bump(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("UPDATE core_contentgeneration SET value = value + 1 RETURNING value")
        return cursor.fetchone()[0]


def stored(conn) -> int:
    with conn.cursor() as cursor:
        cursor.execute("SELECT value FROM core_contentgeneration WHERE id = 1")
        return cursor.fetchone()[0]


def eventually(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def assert_reads_the_generation(django_assert_num_queries):
    """Inside a request cycle, ``current()`` asks the database (one query)."""
    generation._request_started()
    try:
        with django_assert_num_queries(1):
            generation.current()
    finally:
        generation._request_finished()


@pytest.fixture
def listening(settings, monkeypatch):
    """The listener on, reading the value itself only when it connects (no timed re-reads
    racing the test)."""
    settings.MYOEVIDENCE_GENERATION_LISTEN = True
    monkeypatch.setattr(listener_module, "VERIFY_SECONDS", 3600.0)
    listener.stop()
    listener.value()  # starts the thread
    assert listener.connected.wait(10), "the listener did not connect"
    yield listener
    listener.stop()


@pytest.fixture
def other():
    conn = raw_connection()
    yield conn
    conn.close()


@on_postgresql
def test_a_committed_change_is_announced_with_its_number_and_a_rolled_back_one_is_not(other):
    hearer = raw_connection()
    try:
        with hearer.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        other.autocommit = False
        bump(other)
        other.rollback()
        other.autocommit = True
        value = bump(other)

        assert select.select([hearer], [], [], 10)[0], "no notification arrived"
        time.sleep(0.1)  # a notification of the rolled-back change would be here by now
        hearer.poll()
        assert [(n.channel, n.payload) for n in hearer.notifies] == [(CHANNEL, str(value))]
    finally:
        hearer.close()


@on_postgresql
def test_the_listener_knows_the_value_and_hears_a_change_committed_elsewhere(listening, other):
    assert listening.value() == stored(other)

    value = bump(other)

    assert eventually(lambda: listening.value() == value)


@on_postgresql
def test_a_request_reads_no_generation_while_the_listener_vouches_for_it(
    listening, client, settings, django_assert_num_queries
):
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 300
    assert client.get("/references/")["X-Page-Cache"] == "miss"

    with django_assert_num_queries(0):
        response = client.get("/references/")

    assert response["X-Page-Cache"] == "hit"


@on_postgresql
def test_a_change_elsewhere_reaches_the_next_request(listening, client, settings, other):
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 300
    client.get("/references/")
    assert client.get("/references/")["X-Page-Cache"] == "hit"

    value = bump(other)
    assert eventually(lambda: listening.value() == value)

    assert client.get("/references/")["X-Page-Cache"] == "miss"


@on_postgresql
def test_this_process_knows_its_own_commit_before_it_is_heard(
    listening, django_capture_on_commit_callbacks
):
    before = listening.value()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        generation.content_changed()

    # The test's transaction never commits, so no notification will come: what the listener
    # holds is the number this process committed.
    assert listening.value() == before + 1


@on_postgresql
def test_a_listener_that_has_not_heard_from_the_database_lately_is_not_trusted(
    listening, django_assert_num_queries
):
    with listening._lock:  # the thread cannot note any word from the database meanwhile
        listening._heard -= 3 * listener_module.VERIFY_SECONDS
        assert listening.value() is None
        assert_reads_the_generation(django_assert_num_queries)


@on_postgresql
def test_a_listener_cut_off_gives_way_to_reads_then_reconnects(listening, other):
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [listening.backend_pid])
        assert cursor.fetchone() == (True,)

    assert eventually(lambda: not listening.connected.is_set()), "the cut was not noticed"
    value = bump(other)  # made while nobody listened: read when the listener is back
    assert listening.connected.wait(10), "the listener did not reconnect"
    assert listening.value() == value


def test_without_postgresql_or_when_turned_off_every_request_reads_the_generation(
    settings, django_assert_num_queries
):
    settings.MYOEVIDENCE_GENERATION_LISTEN = connection.vendor == "sqlite"
    assert_reads_the_generation(django_assert_num_queries)
