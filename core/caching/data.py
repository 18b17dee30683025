"""The data cache: ``per_generation``, a selector's value kept for the content generation.

Values that cost work in proportion to the corpus (the evidence matrix, a chart's points, a
list's total count, search rankings) are computed once per content change for each distinct
set of arguments, and reused by every page that needs them, also when the page itself cannot
be cached (a reader's own filter combination, a signed-in curator).

The key is derived from *every* argument of the decorated function, bound to its signature
(defaults included), so a parameter cannot be left out of it:

* a queryset by its database, model, SQL and parameters (which include the reader's
  visibility, applied by ``restrict``); one that can match nothing has no SQL and is computed
  without the cache;
* a user by what it may see: the content models whose unpublished entries it sees
  (``core.workflow.sees_unpublished``), not who it is;
* a model instance by its model and primary key;
* None, numbers, strings, dates, enums; lists, tuples, sets and mappings (filter data, a
  ``QueryDict``) of those, mappings by sorted items.

Anything else raises ``TypeError`` when the key is built: a new kind of argument must be given
a key on purpose, never silently ignored.

Entries live in this process (``local_values``, up to ``MYOEVIDENCE_DATA_CACHE_LOCAL_BYTES``,
pickled, so every caller gets its own copy; a string, which no caller can change, as itself)
and, when Django's default cache is shared (Redis), there too. The value is computed directly,
neither read nor stored, when ``MYOEVIDENCE_DATA_CACHE_SECONDS`` is 0, when the shared cache is
unreachable (stored locally only), and inside a transaction that has changed content and not
committed yet. Threads of one process that ask for a value being computed wait for it
(``core.caching.flights``).
"""

from __future__ import annotations

import datetime
import decimal
import enum
import functools
import hashlib
import inspect
import logging
import pickle
import sys
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Model, QuerySet
from django.http import QueryDict
from django.utils.safestring import SafeString

from core.caching import generation, refresh
from core.caching.flights import Flights
from core.caching.local import LocalStore
from core.caching.shared import shared_cache

__all__ = [
    "count_by",
    "data_cache_seconds",
    "flights",
    "key_for",
    "local_values",
    "per_generation",
    "value_for",
]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def data_cache_seconds() -> int:
    return int(getattr(settings, "MYOEVIDENCE_DATA_CACHE_SECONDS", 0) or 0)


def _local_limit() -> int:
    return int(getattr(settings, "MYOEVIDENCE_DATA_CACHE_LOCAL_BYTES", 0) or 0)


# Values by key, as their pickles (strings as themselves, see ``_keep``); sized by the bytes
# each holds.
local_values = LocalStore(_local_limit)
# The values being computed in this process, by key and generation.
flights = Flights()


class _Uncacheable(Exception):
    """An argument for which no key can say what the value depends on (an empty queryset)."""


def _canonical(value):
    """A plain, comparable form of one argument (see the module docstring)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        return ("enum", type(value).__qualname__, value.value)
    for kind in (int, float, str, bytes):
        if isinstance(value, kind):
            return (kind.__name__, kind(value))
    if isinstance(value, QuerySet):
        try:
            sql, params = value.query.sql_with_params()
        except EmptyResultSet:
            raise _Uncacheable from None
        return ("queryset", value.db, value.model._meta.label, sql, repr(params))
    if isinstance(value, AbstractBaseUser | AnonymousUser):
        return ("user", _visibility(value))
    if isinstance(value, Model):
        if value.pk is None:
            raise TypeError(f"per_generation: an unsaved {type(value).__name__} has no key")
        return ("instance", value._meta.label, value.pk)
    if isinstance(value, datetime.date | datetime.time | decimal.Decimal):
        return (type(value).__name__, str(value))
    if isinstance(value, QueryDict):
        return ("map", sorted((k, tuple(v)) for k, v in value.lists()))
    if isinstance(value, Mapping):
        return ("map", sorted((repr(_canonical(k)), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("seq", tuple(_canonical(v) for v in value))
    if isinstance(value, set | frozenset):
        return ("set", tuple(sorted(repr(_canonical(v)) for v in value)))
    raise TypeError(
        f"per_generation: no key for an argument of type {type(value).__qualname__}; "
        "give core.caching.data._canonical a rule for it"
    )


@functools.cache
def _reviewed_models() -> tuple[type, ...]:
    from core.models import ReviewedModel

    return tuple(m for m in generation.content_models() if issubclass(m, ReviewedModel))


def _visibility(user) -> tuple[str, ...]:
    """The content models whose unpublished entries ``user`` sees: all a key needs of a user,
    so every reader with the same rights shares the value."""
    from core.workflow import sees_unpublished

    # Remembered on the user object, which lives for one request: a page keys many values
    # and fragments by it.
    memo = getattr(user, "_myoevidence_visibility", None)
    if memo is None:
        memo = tuple(
            model._meta.label for model in _reviewed_models() if sees_unpublished(user, model)
        )
        try:
            user._myoevidence_visibility = memo
        except AttributeError:  # a user object that takes no attributes: computed each time
            pass
    return memo


def key_for(func: Callable, *args, **kwargs) -> str:
    """The cache key of ``func(*args, **kwargs)``: its qualified name and every argument.

    Raises TypeError for an argument of a kind that has no key."""
    signature = _signature(func)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    parts = (
        f"{func.__module__}.{func.__qualname__}",
        tuple((name, _canonical(value)) for name, value in bound.arguments.items()),
    )
    return hashlib.md5(repr(parts).encode(), usedforsecurity=False).hexdigest()


@functools.cache
def _signature(func: Callable) -> inspect.Signature:
    return inspect.signature(func)


def per_generation(func: Callable[P, T]) -> Callable[P, T]:
    """Keep ``func``'s value per content generation and distinct arguments (module docstring)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        seconds = data_cache_seconds()
        if seconds <= 0 or generation.uncommitted_changes():
            return func(*args, **kwargs)
        try:
            key = "data:" + key_for(func, *args, **kwargs)
        except _Uncacheable:
            return func(*args, **kwargs)
        return _cached(key, seconds, lambda: func(*args, **kwargs))

    wrapper.uncached = func  # type: ignore[attr-defined]
    return wrapper


def value_for(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """``compute()``'s value kept per generation under ``name`` and ``parts`` (keyed as
    ``per_generation``'s arguments): for values whose inputs are not one function's arguments,
    such as a rendered fragment or an API page built from the request."""
    seconds = data_cache_seconds()
    if seconds <= 0 or generation.uncommitted_changes():
        return compute()
    try:
        canonical = (name, tuple(_canonical(part) for part in parts))
    except _Uncacheable:
        return compute()
    key = "value:" + hashlib.md5(repr(canonical).encode(), usedforsecurity=False).hexdigest()
    return _cached(key, seconds, compute)


def _cached(key: str, seconds: int, compute: Callable[[], T]) -> T:
    current = generation.current()
    kept = local_values.get(key, current)
    if kept is not None:
        return _unkept(kept)
    shared = shared_cache()
    if shared is not None:
        try:
            stored = shared.get(key)
        except Exception:
            logger.warning("Shared data cache unavailable.", exc_info=True)
            shared, stored = None, None
        if stored is not None and stored[0] == current:
            value = pickle.loads(stored[1])
            _keep(key, current, value, stored[1], seconds)
            return value

    # The generation was read before computing: a change committed meanwhile makes this value
    # old at once, as with pages. Threads of this process asking for it meanwhile wait for
    # this computation rather than repeat it (core.caching.flights).
    def compute_and_store():
        value = compute()
        refresh.note_computed()
        pickled = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        _keep(key, current, value, pickled, seconds)
        if shared is not None:
            try:
                shared.set(key, (current, pickled), timeout=seconds)
            except Exception:
                logger.warning("Shared data cache unavailable; value not shared.", exc_info=True)
        return value, pickled

    return flights.run((key, current), compute_and_store)


# Strings with no state a caller could change (not any subclass of str: one may carry some).
_IMMUTABLE_TEXT = (str, SafeString)


def _keep(key: str, current: int, value, pickled: bytes, seconds: int) -> None:
    """Keep a value in this process: a string (a rendered fragment) as itself, since no caller
    can change it; anything else as its pickle, so that every caller gets its own copy.
    Unpickling a 250-KB fragment (its UTF-8 decoded again) cost 0.4 ms on every page that
    showed it. A string is sized by what it holds in memory (up to four bytes a character:
    one "⊕" makes every character of a fragment two bytes), a pickle by its length."""
    if type(value) in _IMMUTABLE_TEXT:
        local_values.put(key, current, value, sys.getsizeof(value), seconds)
    else:
        local_values.put(key, current, pickled, len(pickled), seconds)


def _unkept(kept):
    """What ``_keep`` kept, as the value (a pickle is bytes, a kept string never is)."""
    return kept if type(kept) in _IMMUTABLE_TEXT else pickle.loads(kept)


@per_generation
def count_by(queryset: QuerySet, field: str) -> dict:
    """How many of the queryset's rows go with each value of ``field`` (a column, or a
    many-to-many relation: one row per link), once per content generation."""
    return dict(queryset.order_by().values_list(field).annotate(n=Count("pk")))
