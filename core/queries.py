"""Queries whose SQL the ORM builds once per process, then runs as it is on every call.

For a query that takes no value from its caller, the ORM still clones, resolves and compiles
every expression on every call. For the footer's latest-release query (seven EXISTS
subqueries) that was 5-7 ms of Python against 0.05 ms in the database, paid by the first
request of every page after each content change. Django has no API for a query prepared
once, so this keeps the compiler that the ORM made the first time, runs its SQL on the
caller's connection, and hands the rows back to that compiler to convert (datetimes on
SQLite, for example) exactly as the queryset would have.

Only for querysets whose SQL and parameters are the same on every call: no ``now()``, no
request, no user. The rows are read afresh every time; only the SQL is kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

__all__ = ["BuiltOnce"]


class BuiltOnce:
    """``BuiltOnce(build).rows()``: the rows of ``build()``'s queryset, as tuples.

    ``build`` returns a ``values_list()`` queryset; it is called once per database alias.
    """

    def __init__(self, build: Callable[[], QuerySet]):
        self.build = build
        self._built: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def rows(self, using: str = DEFAULT_DB_ALIAS) -> list[tuple]:
        built = self._built.get(using)
        if built is None:
            with self._lock:
                built = self._built.get(using) or self._compile(using)
                self._built[using] = built
        compiler, sql, params = built
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        # The compiler converts the values as the queryset would; it only reads the columns'
        # types and the backend's converters, not the connection it was made with.
        return list(compiler.results_iter(results=[fetched], tuple_expected=True))

    def _compile(self, using: str) -> tuple:
        compiler = self.build().query.get_compiler(using)
        sql, params = compiler.as_sql()
        return compiler, sql, params
