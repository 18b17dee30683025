"""A query built once per process gives what its queryset gives, read afresh on every call."""

import threading

import pytest
from django.db import connection, connections
from django.db.models import Exists, OuterRef
from django.test.utils import CaptureQueriesContext

from core.queries import BuiltOnce
from evidence.models import Study
from references.models import Reference

pytestmark = pytest.mark.django_db


def references_with_studies():
    # A datetime (converted from text on SQLite), a boolean subquery and a plain column.
    return (
        Reference.objects.published()
        .annotate(has_study=Exists(Study.objects.filter(reference=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "modified", "has_study", "title")
    )


def test_it_returns_the_querysets_rows_with_the_same_types():
    built = BuiltOnce(references_with_studies)
    expected = list(references_with_studies())
    assert expected, "the corpus has published references"
    rows = built.rows()
    assert rows == expected
    assert [tuple(map(type, row)) for row in rows] == [tuple(map(type, r)) for r in expected]
    assert {row[2] for row in rows} == {True, False}  # booleans, not the database's 0/1


def test_the_sql_is_built_once_and_the_rows_are_read_every_time():
    calls = []

    def build():
        calls.append(1)
        return references_with_studies()

    built = BuiltOnce(build)
    before = built.rows()
    first = Reference.objects.published().order_by("pk").first()
    Reference.objects.filter(pk=first.pk).update(title="Retitled after the first read")
    with CaptureQueriesContext(connection) as queries:
        after = built.rows()
    assert len(calls) == 1
    assert len(queries) == 1
    assert after[0][3] == "Retitled after the first read" != before[0][3]
    assert len(after) == len(before)


@pytest.mark.django_db(transaction=True)
def test_a_query_built_in_one_thread_runs_on_another_threads_connection():
    built = BuiltOnce(references_with_studies)
    expected = built.rows()  # built here, with this thread's connection
    found = []

    def read():
        try:
            with CaptureQueriesContext(connections["default"]) as queries:
                found.append(built.rows())
            found.append(len(queries))
        finally:
            connections.close_all()

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert found == [expected, 1]
