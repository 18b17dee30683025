"""Rendered fragments kept per content generation: nested ("Russian doll") template caching.

A page the whole-page cache cannot answer (a signed-in curator, a deployment where the page
cache is off, a reader's own filter combination) is assembled from fragments that each depend
on less than the page: a study's table row on the study and on what the reader may see, a
therapy's synthesis on the therapy, a list's body on its filter state. A fragment is rendered
once per content generation and per key, then reused by every page and every reader with the
same rights; a content change, committed by any process, makes every fragment old at once
(``core.caching.generation``), exactly as for the data cache whose store it shares.

The key is the fragment's name and every part given, canonicalised as ``per_generation``'s
arguments are (``core.caching.data``): a user by what it may see, an instance by its primary
key, a ``QueryDict`` by its sorted items. Whatever the fragment shows must be named in its
parts: the template tag cannot see what the fragment reads.

Written here rather than with Django's ``{% cache %}`` tag because that tag keys a user by its
``str()`` (one copy per person, not per visibility), knows nothing of the content generation,
and keeps its entries in one cache only, not in this process first.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import Error as DatabaseError  # InterfaceError too (a dead connection)
from django.utils.safestring import SafeString, mark_safe

from core.caching import generation
from core.caching.data import data_cache_seconds, value_for

__all__ = ["fragment"]


def fragment(name: str, parts: tuple, render: Callable[[], str]) -> SafeString:
    """The fragment ``name`` for ``parts``: stored, or rendered now (and stored)."""
    if data_cache_seconds() > 0:
        try:
            generation.current()
        except DatabaseError:
            # The error pages (a 503 while the database is away) share the site's layout:
            # without the generation nothing stored can be trusted, so the fragment is
            # rendered as it is.
            return mark_safe(render())
    return mark_safe(value_for(f"fragment:{name}", parts, lambda: str(render())))
