"""Streamed exports free each row once written, without waiting for the garbage collector."""

import gc
import threading
import weakref

import pytest
from django.db import connection
from django.db.models import F, OuterRef

from core.streaming import (
    RowsAsJSON,
    _fetched_ahead,
    json_rows,
    keys_in,
    one_at_a_time,
    row_batches,
    value_batches,
)
from evidence.models import Outcome, Study
from references.models import Author, Reference

pytestmark = pytest.mark.django_db


def studies():
    # Prefetched arms and outcomes cache their study: each row is a reference cycle.
    return (
        Study.objects.filter(arms__isnull=False, outcomes__isnull=False)
        .distinct()
        .select_related("reference")
        .prefetch_related("arms", "outcomes")
        .order_by("pk")
        .iterator(chunk_size=2)
    )


def first_row_survives(rows) -> bool:
    gc.collect()
    gc.disable()  # only reference counting may free the row
    try:
        first = next(rows)
        assert first.arms.all() and first.outcomes.all()
        assert first.arms.all()[0].study is first  # the cycle
        ref = weakref.ref(first)
        del first
        for _ in rows:
            pass
        return ref() is not None
    finally:
        gc.enable()


def test_a_plain_iterator_leaves_written_rows_to_the_garbage_collector():
    assert first_row_survives(studies())


def test_one_at_a_time_frees_each_row_once_the_next_is_asked_for():
    assert not first_row_survives(one_at_a_time(studies()))


def test_value_batches_keep_the_querysets_order_in_lists_of_the_size():
    # Prefetching is dropped (values have nothing to prefetch into); the order is kept.
    ordered = Study.objects.published().prefetch_related("arms").order_by("-reference__year", "pk")
    batches = list(value_batches(ordered, ("pk", "label"), 10))
    assert [len(b) for b in batches] == [10, 10, 10, 10, ordered.count() - 40]
    assert [(row["pk"], row["label"]) for b in batches for row in b] == list(
        ordered.values_list("pk", "label")
    )
    assert list(value_batches(Study.objects.none(), ("pk",), 10)) == []


@pytest.mark.parametrize("count", [0, 1, 7, 1500])
def test_keys_in_selects_the_same_rows_as_a_list_of_keys(count):
    keys = list(Study.objects.order_by("-pk").values_list("pk", flat=True)[:count])
    keys += [0, -5] if count else []  # no such rows
    by_list = set(Outcome.objects.filter(study_id__in=keys).values_list("pk", flat=True))
    by_keys = set(Outcome.objects.filter(study_id__in=keys_in(keys)).values_list("pk", flat=True))
    assert by_keys == by_list
    assert bool(by_keys) == bool(count)


def test_row_batches_give_the_fields_in_the_order_asked_for():
    # An annotation asked for first comes first, as values_list gives it (the helper's path
    # hands the raw rows to the same compiler).
    ordered = Study.objects.published().annotate(title=F("reference__title")).order_by("pk")
    rows = [row for batch in row_batches(ordered, ("title", "pk", "label"), 7) for row in batch]
    assert rows == list(ordered.values_list("title", "pk", "label"))
    single = [row for batch in row_batches(ordered, ("title",), 100) for row in batch]
    assert single == [(title,) for title, _, _ in rows]


on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the read-ahead thread is PostgreSQL's"
)


def read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "myoevidence-read-ahead"]


@on_postgresql
def test_on_postgresql_the_next_batch_is_fetched_by_a_helper_thread_that_ends_with_them():
    batches = row_batches(Study.objects.published().order_by("pk"), ("pk",), 5)
    first = next(batches)
    assert len(read_ahead_threads()) == 1  # fetching the next batch meanwhile
    rest = [row for batch in batches for row in batch]
    assert [*first, *rest] == list(Study.objects.published().order_by("pk").values_list("pk"))
    assert read_ahead_threads() == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_read_stopped_early_stops_its_helper_and_leaves_no_transaction_open():
    # Outside a transaction (as a streamed response is), the rows are read in one of their
    # own; a client that goes away after the first batch ends the helper and the transaction.
    assert connection.get_autocommit()
    # Rows of its own: a transactional test may follow another that emptied the database.
    Reference.objects.bulk_create(
        Reference(title=f"Read early {i}", bibtex_key=f"readearly{i}") for i in range(5)
    )
    batches = row_batches(Reference.objects.order_by("pk"), ("pk",), 2)
    assert len(next(batches)) == 2
    assert connection.in_atomic_block
    batches.close()
    assert read_ahead_threads() == []
    assert not connection.in_atomic_block and connection.get_autocommit()
    assert Reference.objects.count() >= 2  # the connection is free for the next query


def test_an_error_while_fetching_ahead_is_raised_to_the_reader_and_the_helper_ends():
    def failing():
        yield [1]
        raise ValueError("lost the connection")

    batches = _fetched_ahead(failing())
    assert next(batches) == [1]
    with pytest.raises(ValueError, match="lost the connection"):
        next(batches)
    assert read_ahead_threads() == []


def test_fetched_ahead_keeps_every_batch_in_order():
    assert list(_fetched_ahead(iter([[1, 2], [3], [4, 5]]))) == [[1, 2], [3], [4, 5]]
    assert list(_fetched_ahead(iter([]))) == []


def test_rows_as_json_gives_the_related_rows_in_the_querysets_order():
    reference = Reference.objects.filter(authors__isnull=False).order_by("pk").first()
    # Positions the reverse of the rows' keys, so that an unordered read would show.
    authors = list(reference.authors.order_by("pk"))
    for i, author in enumerate(authors):
        Author.objects.filter(pk=author.pk).update(position=1000 - i)
    bare = Reference.objects.exclude(authors__isnull=False).first()
    column = RowsAsJSON(
        Author.objects.filter(reference=OuterRef("pk")).order_by("position"),
        ("family", "given", "is_corporate"),
    )
    found = dict(
        Reference.objects.filter(pk__in=[reference.pk, getattr(bare, "pk", 0)])
        .annotate(authors_json=column)
        .values_list("pk", "authors_json")
    )
    expected = [[a.family, a.given, a.is_corporate] for a in reversed(authors)]
    rows = [
        [family, given, bool(corporate)]
        for family, given, corporate in json_rows(found[reference.pk])
    ]
    assert rows == expected
    if bare is not None:
        assert json_rows(found[bare.pk]) == []
