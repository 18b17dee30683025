"""One computation of a value at a time per process (core.caching.flights)."""

import pickle
import threading

import pytest
from django.db import connections

from core.caching import data
from core.caching.data import per_generation
from core.caching.flights import Flights

JOIN_SECONDS = 10  # far more than any of these needs; a thread still alive after it is stuck


def computed(value, calls: list, gate: threading.Event | None = None):
    """A compute function that records its call and, given a gate, waits for it first."""

    def compute():
        calls.append(value)
        if gate is not None:
            assert gate.wait(JOIN_SECONDS)
        return value, pickle.dumps(value)

    return compute


def in_thread(target) -> tuple[threading.Thread, list]:
    results: list = []

    def run():
        try:
            results.append(target())
        except Exception as exc:  # handed to the test
            results.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def leader_waiting(flights: Flights, key, started: threading.Event) -> threading.Event:
    """Once the leader of ``key`` has started: an event set when another thread begins to wait
    for it (the flight's own event, watched)."""
    assert started.wait(JOIN_SECONDS)
    flight = flights._flights[key]
    waiting = threading.Event()
    done = flight.done

    class Watched:
        def wait(self, timeout=None):
            waiting.set()
            return done.wait(timeout)

        def set(self):
            done.set()

    flight.done = Watched()
    return waiting


def test_a_thread_asking_for_a_value_being_computed_waits_for_it_and_gets_its_own_copy():
    flights, calls, gate, started = Flights(), [], threading.Event(), threading.Event()

    def lead():
        started.set()
        return computed(["the value"], calls, gate)()

    leader, led = in_thread(lambda: flights.run("key", lead))
    waiting = leader_waiting(flights, "key", started)
    waiter, waited = in_thread(lambda: flights.run("key", computed(["again"], calls)))
    assert waiting.wait(JOIN_SECONDS)
    gate.set()
    leader.join(JOIN_SECONDS)
    waiter.join(JOIN_SECONDS)
    assert calls == [["the value"]]  # computed once
    assert led == waited == [["the value"]]
    assert waited[0] is not led[0]  # unpickled: a copy the caller may change
    assert len(flights) == 0


def test_a_thread_leading_a_computation_never_waits_for_another_so_two_cannot_deadlock():
    # A leads "a" and needs "b"; B leads "b" and needs "a". Waiting, each would wait for the
    # other until wait_seconds ran out.
    flights, calls = Flights(wait_seconds=60), []
    both_leading = threading.Barrier(2, timeout=JOIN_SECONDS)

    def leading(key, needs):
        def compute():
            both_leading.wait()
            inner = flights.run(needs, computed(f"{needs} inside {key}", calls))
            return (key, inner), pickle.dumps((key, inner))

        return lambda: flights.run(key, compute)

    a, a_result = in_thread(leading("a", "b"))
    b, b_result = in_thread(leading("b", "a"))
    a.join(JOIN_SECONDS)
    b.join(JOIN_SECONDS)
    assert not a.is_alive() and not b.is_alive()
    assert a_result == [("a", "b inside a")] and b_result == [("b", "a inside b")]
    assert sorted(calls) == ["a inside b", "b inside a"]


def test_when_the_leader_fails_the_waiter_computes_the_value_itself():
    flights, calls, gate, started = Flights(), [], threading.Event(), threading.Event()

    def fail():
        started.set()
        assert gate.wait(JOIN_SECONDS)
        raise RuntimeError("the database went away")

    leader, led = in_thread(lambda: flights.run("key", fail))
    waiting = leader_waiting(flights, "key", started)
    waiter, waited = in_thread(lambda: flights.run("key", computed("recomputed", calls)))
    assert waiting.wait(JOIN_SECONDS)
    gate.set()
    leader.join(JOIN_SECONDS)
    waiter.join(JOIN_SECONDS)
    assert isinstance(led[0], RuntimeError)
    assert waited == ["recomputed"] and calls == ["recomputed"]
    assert len(flights) == 0


def test_a_waiter_stops_waiting_after_wait_seconds_and_computes_itself():
    flights, calls, gate, started = (
        Flights(wait_seconds=0.05),
        [],
        threading.Event(),
        threading.Event(),
    )

    def lead():
        started.set()
        return computed("slow", calls, gate)()

    leader, led = in_thread(lambda: flights.run("key", lead))
    assert started.wait(JOIN_SECONDS)
    assert flights.run("key", computed("impatient", calls)) == "impatient"
    gate.set()
    leader.join(JOIN_SECONDS)
    assert led == ["slow"] and calls == ["slow", "impatient"]


def test_different_keys_are_computed_side_by_side():
    flights, calls, gate, started = Flights(), [], threading.Event(), threading.Event()

    def lead():
        started.set()
        return computed("first", calls, gate)()

    leader, led = in_thread(lambda: flights.run("one", lead))
    assert started.wait(JOIN_SECONDS)
    assert flights.run("two", computed("second", calls)) == "second"  # did not wait
    gate.set()
    leader.join(JOIN_SECONDS)
    assert led == ["first"]


# -- through the data cache ----------------------------------------------------------------

STARTED, GATE = threading.Event(), threading.Event()
RUNS: list[int] = []


@per_generation
def slow_total(n):
    RUNS.append(n)
    STARTED.set()
    assert GATE.wait(JOIN_SECONDS)
    return {"total": n * 2}


@pytest.mark.django_db(transaction=True)
def test_two_threads_asking_the_data_cache_for_one_value_compute_it_once(settings):
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300
    STARTED.clear(), GATE.clear(), RUNS.clear()
    data.local_values.clear()

    def ask():
        try:
            return slow_total(21)
        finally:
            connections.close_all()  # this thread's connection (the generation read)

    first, first_result = in_thread(ask)
    assert STARTED.wait(JOIN_SECONDS)
    (key,) = data.flights._flights
    waiting = leader_waiting(data.flights, key, STARTED)
    second, second_result = in_thread(ask)
    assert waiting.wait(JOIN_SECONDS)
    GATE.set()
    first.join(JOIN_SECONDS)
    second.join(JOIN_SECONDS)
    assert RUNS == [21]
    assert first_result == second_result == [{"total": 42}]
    assert slow_total(21) == {"total": 42} and RUNS == [21]  # and kept
