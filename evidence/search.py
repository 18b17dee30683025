"""Site-wide search across therapies, subtypes, studies and references.

PostgreSQL: full-text search (``websearch_to_tsquery``, ranked with ``ts_rank``) over a stored,
GIN-indexed ``search_vector`` column per table, which a trigger keeps current (migration
evidence/0004). Filtering and ranking read the stored vector, so a term that matches tens of
thousands of rows costs an index scan and a rank per row, not a text parse per row. Elsewhere
(SQLite, the development default): every term must appear (case-insensitive substring), ranked
by where it matched. Matches are highlighted with <mark> after HTML-escaping, on both backends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Expression, F, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.cache import memoize, queryset_key
from evidence.models import DiseaseSubtype, Study
from references.models import Reference
from therapies.models import Therapy

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8

# The searchable text of each model, in weight order (A most important). On PostgreSQL the
# stored vectors are built from exactly these fields and weights by the triggers of
# evidence/migrations/0004_search_vector_columns.py; keep the two in step (a test compares them).
SEARCH_FIELDS: dict[type, list[tuple[str, str]]] = {
    Therapy: [("name", "A"), ("synonyms", "A"), ("brand_names", "A"), ("mechanism", "B"),
              ("review_summary", "C")],
    DiseaseSubtype: [("name", "A"), ("abbreviation", "A"), ("synonyms", "A"),
                     ("description", "B")],
    Study: [("label", "A"), ("summary", "B"), ("primary_endpoint", "C"), ("comparator", "C"),
            ("adverse_events", "C")],
    Reference: [("title", "A"), ("first_author", "B"), ("journal", "C"), ("notes", "D")],
}


class StoredVector(Expression):
    """The row's stored ``search_vector`` column (PostgreSQL only; not a model field)."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.{connection.ops.quote_name('search_vector')}", []


@dataclass
class Hit:
    kind: str
    obj: object
    title: str
    url: str
    snippet: SafeString
    rank: float


def terms_of(query: str) -> list[str]:
    return [t for t in re.findall(r"[^\W_][\w\-]*", query[:MAX_QUERY_LENGTH])][:MAX_TERMS]


def highlight(text: str, terms: list[str], *, length: int = 220) -> SafeString:
    """Escape ``text``, cut a window around the first match, wrap matches in <mark>."""
    text = text or ""
    if not terms:
        return escape(text[:length])
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                         re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, first.start() - 60) if first and len(text) > length else 0
    window = text[start:start + length]
    pieces, last = [], 0
    for match in pattern.finditer(window):
        pieces.append(escape(window[last:match.start()]))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    pieces.append(escape(window[last:]))
    prefix = "… " if start else ""
    suffix = " …" if start + length < len(text) else ""
    return mark_safe(prefix + "".join(pieces) + suffix)


def _ranked(queryset: QuerySet, model: type, query: str, terms: list[str], limit: int):
    if connection.vendor == "postgresql":
        ts_query = SearchQuery(query, search_type="websearch", config="english")
        return list(
            queryset.alias(search=StoredVector())
            .filter(search=ts_query)
            .annotate(rank=SearchRank(F("search"), ts_query))
            .order_by("-rank", "pk")[:limit]
        )
    fields = [name for name, _ in SEARCH_FIELDS[model]]
    for term in terms:
        condition = Q()
        for name in fields:
            condition |= Q(**{f"{name}__icontains": term})
        queryset = queryset.filter(condition)
    results = list(queryset[: limit * 5])
    weights = {"A": 4, "B": 2, "C": 1, "D": 0.5}
    for obj in results:
        obj.rank = sum(weights[w] * sum(str(getattr(obj, n) or "").lower().count(t.lower())
                                        for t in terms)
                       for n, w in SEARCH_FIELDS[model])
    results.sort(key=lambda o: (-o.rank, o.pk))
    return results[:limit]


def search(query: str, *, user=None, limit: int = 20) -> dict[str, list[Hit]]:
    """Ranked hits per kind; an empty or term-less query returns empty groups.

    Ranking every match costs time in proportion to the matches (a common drug name matches
    a third of a field-wide corpus), so the hits of each query are kept for the content
    generation (``core.cache.memoize``), keyed by the terms and what the reader may see.
    """
    terms = terms_of(query or "")
    if not terms:
        return {"therapies": [], "subtypes": [], "studies": [], "references": []}
    querysets = (Therapy.objects.restrict(user).select_related("drug_class"),
                 DiseaseSubtype.objects.restrict(user),
                 Study.objects.restrict(user).select_related("reference"),
                 Reference.objects.restrict(user))
    key = queryset_key(*querysets)
    return memoize("search", key and f"{key}:{limit}:{' '.join(terms)}",
                   lambda: _search(terms, querysets, limit))


def _search(terms: list[str], querysets, limit: int) -> dict[str, list[Hit]]:
    therapies, subtypes, studies, references = querysets
    groups: dict[str, list[Hit]] = {"therapies": [], "subtypes": [], "studies": [],
                                    "references": []}
    query = " ".join(terms)
    for obj in _ranked(therapies, Therapy, query, terms, limit):
        text = ", ".join(filter(None, [obj.synonyms, obj.brand_names])) or obj.mechanism
        groups["therapies"].append(Hit("therapy", obj, obj.name, obj.get_absolute_url(),
                                       highlight(f"{obj.name}: {text}", terms), obj.rank))
    for obj in _ranked(subtypes, DiseaseSubtype, query, terms, limit):
        groups["subtypes"].append(Hit("subtype", obj, obj.name, obj.get_absolute_url(),
                                      highlight(f"{obj.name} ({obj.abbreviation}). "
                                                f"{obj.synonyms}", terms), obj.rank))
    for obj in _ranked(studies, Study, query, terms, limit):
        groups["studies"].append(Hit("study", obj, obj.label, obj.get_absolute_url(),
                                     highlight(f"{obj.label}. {obj.summary}", terms), obj.rank))
    for obj in _ranked(references, Reference, query, terms, limit):
        groups["references"].append(Hit("reference", obj, obj.title, obj.get_absolute_url(),
                                        highlight(f"{obj.first_author} ({obj.year}). "
                                                  f"{obj.title}", terms), obj.rank))
    return groups
