"""With the database away, every request gets a 503 with Retry-After (JSON under /api/), not a
500 and a traceback; the next request after it is back is served normally, without a restart.

The outage is simulated by making the connection's cursor raise what psycopg2 raises when
PostgreSQL restarts (the load test, bench/loadtest.py, restarts a real one)."""

import logging
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
)
from django.test import Client, override_settings

from core.middleware_db import DatabaseUnavailableMiddleware, database_unavailable

pytestmark = pytest.mark.django_db

DOWN = OperationalError(
    "server closed the connection unexpectedly\n\tThis probably means the "
    "server terminated abnormally"
)


@contextmanager
def database_down(error=DOWN):
    with (
        mock.patch.object(connection, "cursor", side_effect=error),
        mock.patch.object(connection, "chunked_cursor", side_effect=error),
    ):
        yield


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/studies/",
        "/therapies/rituximab/",
        "/references/1/",
        "/search/?q=rituximab",
        "/studies/?design=rct_parallel",
    ],
)
def test_pages_answer_503_with_retry_after(client, url, settings):
    settings.MYOEVIDENCE_RETRY_AFTER_SECONDS = 7
    with database_down():
        response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "briefly unavailable" in page and "try again in 7 seconds" in page
    assert "Traceback" not in page and "OperationalError" not in page


def test_the_api_answers_503_in_json(client):
    with database_down():
        response = client.get("/api/v1/studies/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "The database is temporarily unavailable. Retry in 10 seconds.",
        "retry_after": 10,
    }
    assert response["Retry-After"] == "10"


def test_a_dead_connection_is_a_503_too(client):
    with database_down(InterfaceError("connection already closed")):
        assert client.get("/studies/").status_code == 503


def test_the_health_check_reports_503(client):
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 503
    assert client.get("/healthz").status_code == 200


def test_staff_pages_and_the_admin_answer_503(admin_client):
    with database_down():
        assert admin_client.get("/admin/evidence/study/").status_code == 503
        assert admin_client.get("/studies/").status_code == 503


def test_the_site_recovers_by_itself(client):
    with database_down():
        assert client.get("/studies/").status_code == 503
    response = client.get("/studies/")
    assert response.status_code == 200
    assert b"rituximab" in response.content.lower()


def test_one_log_line_per_refused_request_not_a_traceback(client, caplog):
    with caplog.at_level(logging.WARNING), database_down():
        client.get("/studies/")
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1
    assert records[0].name == "core.middleware_db"
    assert (
        "answered 503 to GET /studies/ (OperationalError: server closed the connection "
        "unexpectedly)" in records[0].getMessage()
    )
    assert records[0].exc_info is None


class FailingMiddleware:
    """Stands for a middleware that touches the database (e.g. saving the session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raise DOWN


def test_a_failure_in_another_middleware_is_a_503_too(settings):
    # Django turns that exception into a 500 itself; the test client would re-raise it.
    client = Client(raise_request_exception=False)
    with override_settings(
        MIDDLEWARE=[*settings.MIDDLEWARE, "tests.core.test_db_unavailable.FailingMiddleware"]
    ):
        response = client.get("/about/")
    assert response.status_code == 503
    assert response["Retry-After"] == "10"


def test_other_errors_stay_500s(rf):
    """Only database outages become 503: a bug must still show as a 500."""
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    assert middleware.process_exception(rf.get("/"), ValueError("a bug")) is None
    assert middleware.process_exception(rf.get("/"), DOWN).status_code == 503


def driver_error(name: str, pgcode: str | None) -> Exception:
    """An exception shaped like psycopg's: its class name and SQLSTATE are what count."""
    error = type(name, (Exception,), {})("error")
    error.pgcode = pgcode
    return error


@pytest.mark.parametrize(
    "pgcode, unavailable",
    [
        (None, True),  # no SQLSTATE: the connection itself failed
        ("57P01", True),  # terminating connection due to administrator command
        ("57P03", True),  # the database system is starting up
        ("08006", True),  # connection failure
        ("53300", True),  # too many connections
        ("42P01", False),  # undefined table: a bug
        ("22P02", False),  # invalid text representation: a bug
    ],
)
def test_which_postgresql_errors_mean_unavailable(pgcode, unavailable):
    error = OperationalError("x")
    error.__cause__ = driver_error("OperationalError", pgcode)
    assert database_unavailable(error) is unavailable


@pytest.mark.parametrize(
    "error_class, unavailable",
    [
        (DatabaseError, True),  # "error with status PGRES_TUPLES_OK and no message from the libpq"
        (ProgrammingError, False),  # "can't adapt type": a bug, though it has no SQLSTATE either
        (IntegrityError, False),
    ],
)
def test_a_postgresql_error_without_sqlstate(error_class, unavailable):
    error = error_class("x")
    error.__cause__ = driver_error(error_class.__name__, None)
    assert database_unavailable(error) is unavailable


def test_psycopgs_own_errors_count_too():
    """Closing a cursor lets psycopg's exception through unwrapped (seen in the load test)."""
    psycopg2 = pytest.importorskip("psycopg2")
    assert database_unavailable(psycopg2.OperationalError("server closed the connection"))
    assert database_unavailable(psycopg2.InterfaceError("cursor already closed"))
    assert not database_unavailable(psycopg2.ProgrammingError("can't adapt type 'dict'"))
    assert not database_unavailable(ValueError("not a database error"))


@pytest.mark.parametrize(
    "message, unavailable",
    [
        ("database is locked", True),
        ("unable to open database file", True),
        ("LIKE or GLOB pattern too complex", False),
        ("no such table: evidence_study", False),
    ],
)
def test_which_sqlite_errors_mean_unavailable(message, unavailable):
    assert database_unavailable(OperationalError(message)) is unavailable


def test_a_query_error_is_not_disguised_as_an_outage(settings):
    client = Client(raise_request_exception=False)
    with database_down(OperationalError("no such table: evidence_study")):
        assert client.get("/studies/").status_code == 500
