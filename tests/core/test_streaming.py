"""Streamed exports free each row once written, without waiting for the garbage collector."""

import gc
import weakref

import pytest

from core.streaming import keys_in, one_at_a_time, value_batches
from evidence.models import Outcome, Study

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
