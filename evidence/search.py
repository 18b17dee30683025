"""Site-wide search across therapies, subtypes, studies (with their outcomes), the review's
statements, trials (names and registry ids) and references.

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
from django.db.models import Case, Expression, F, Q, QuerySet, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.caching.data import per_generation
from evidence.choices import PublicationRole
from evidence.models import DiseaseSubtype, Outcome, Statement, Study, Trial
from references.models import Reference
from therapies.models import Therapy

MAX_QUERY_LENGTH = 200
MAX_TERMS = 8

# The searchable text of each model, in weight order (A most important). On PostgreSQL the
# stored vectors are built from exactly these fields and weights by the triggers of
# evidence/migrations/0004_search_vector_columns.py; keep the two in step (a test compares them).
SEARCH_FIELDS: dict[type, list[tuple[str, str]]] = {
    Therapy: [
        ("name", "A"),
        ("synonyms", "A"),
        ("brand_names", "A"),
        ("mechanism", "B"),
        ("review_summary", "C"),
    ],
    DiseaseSubtype: [("name", "A"), ("abbreviation", "A"), ("synonyms", "A"), ("description", "B")],
    Study: [
        ("label", "A"),
        ("summary", "B"),
        ("primary_endpoint", "C"),
        ("comparator", "C"),
        ("adverse_events", "C"),
    ],
    Reference: [("title", "A"), ("first_author", "B"), ("journal", "C"), ("notes", "D")],
    # evidence/migrations/0010_search_statements_trials_outcomes.py
    Statement: [("text", "A")],
    Trial: [("name", "A"), ("registry_ids", "A"), ("note", "C")],
    Outcome: [("description", "B"), ("value", "C"), ("timepoint", "D")],
}

GROUPS = ("therapies", "subtypes", "studies", "statements", "trials", "references")


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
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)), re.IGNORECASE
    )
    first = pattern.search(text)
    start = max(0, first.start() - 60) if first and len(text) > length else 0
    window = text[start : start + length]
    pieces, last = [], 0
    for match in pattern.finditer(window):
        pieces.append(escape(window[last : match.start()]))
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
        obj.rank = sum(
            weights[w] * sum(str(getattr(obj, n) or "").lower().count(t.lower()) for t in terms)
            for n, w in SEARCH_FIELDS[model]
        )
    results.sort(key=lambda o: (-o.rank, o.pk))
    return results[:limit]


def search(query: str, *, user=None, limit: int = 20) -> dict[str, list[Hit]]:
    """Ranked hits per kind; an empty or term-less query returns empty groups.

    Ranking every match costs time in proportion to the matches (a common drug name matches
    a third of a field-wide corpus), so the hits of each query are kept for the content
    generation (``core.caching.data.per_generation``), keyed by the terms, the limit and the
    querysets, which carry what the reader may see.
    """
    terms = terms_of(query or "")
    if not terms:
        return {group: [] for group in GROUPS}
    therapies = Therapy.objects.restrict(user)
    studies = Study.objects.restrict(user)
    querysets = (
        therapies.select_related("drug_class"),
        DiseaseSubtype.objects.restrict(user),
        studies.select_related("reference"),
        Reference.objects.restrict(user),
        # A statement shows on its therapy's page, an outcome on its study's page, a
        # trial through its publications: each is found only where it can be read.
        Statement.objects.restrict(user).filter(therapy__in=therapies).select_related("therapy"),
        Outcome.objects.filter(study__in=studies).select_related("study"),
        Trial.objects.restrict(user).filter(pk__in=studies.values("trial")),
    )
    return _search(terms, querysets, limit)


@per_generation
def _search(terms: list[str], querysets, limit: int) -> dict[str, list[Hit]]:
    therapies, subtypes, studies, references, statements, outcomes, trials = querysets
    groups: dict[str, list[Hit]] = {group: [] for group in GROUPS}
    query = " ".join(terms)
    for obj in _ranked(therapies, Therapy, query, terms, limit):
        text = ", ".join(filter(None, [obj.synonyms, obj.brand_names])) or obj.mechanism
        groups["therapies"].append(
            Hit(
                "therapy",
                obj,
                obj.name,
                obj.get_absolute_url(),
                highlight(f"{obj.name}: {text}", terms),
                obj.rank,
            )
        )
    for obj in _ranked(subtypes, DiseaseSubtype, query, terms, limit):
        groups["subtypes"].append(
            Hit(
                "subtype",
                obj,
                obj.name,
                obj.get_absolute_url(),
                highlight(f"{obj.name} ({obj.abbreviation}). {obj.synonyms}", terms),
                obj.rank,
            )
        )
    # A study is found by its own text or by an outcome's: one hit per study, ranked by the
    # better of the two, the snippet from whichever matched (its own text first).
    by_study: dict[int, Hit] = {}
    for obj in _ranked(studies, Study, query, terms, limit):
        by_study[obj.pk] = Hit(
            "study",
            obj,
            obj.label,
            obj.get_absolute_url(),
            highlight(f"{obj.label}. {obj.summary}", terms),
            obj.rank,
        )
    for outcome in _ranked(outcomes, Outcome, query, terms, limit):
        study = outcome.study
        hit = by_study.get(study.pk)
        if hit is None:
            text = " · ".join(
                filter(
                    None,
                    [
                        outcome.get_measure_display(),
                        outcome.description,
                        outcome.timepoint,
                        outcome.value,
                    ],
                )
            )
            by_study[study.pk] = Hit(
                "study",
                study,
                study.label,
                study.get_absolute_url(),
                highlight(f"{study.label}. Outcome: {text}", terms),
                outcome.rank,
            )
        else:
            hit.rank = max(hit.rank, outcome.rank)
    groups["studies"] = sorted(by_study.values(), key=lambda h: (-h.rank, h.obj.pk))[:limit]
    for obj in _ranked(statements, Statement, query, terms, limit):
        url = f"{obj.therapy.get_absolute_url()}#statement-{obj.key}"
        groups["statements"].append(
            Hit(
                "statement",
                obj,
                f"{obj.therapy.name}: the review says",
                url,
                highlight(obj.text, terms),
                obj.rank,
            )
        )
    found_trials = _ranked(trials, Trial, query, terms, limit)
    # Trials have no page of their own: the hit opens the primary report (or the first
    # publication the reader may see; the queryset only holds trials that have one). One
    # query for all of them, primary reports first.
    opens: dict[int, Study] = {}
    for study in studies.filter(trial__in=[t.pk for t in found_trials]).order_by(
        Case(When(publication_role=PublicationRole.PRIMARY, then=0), default=1), "pk"
    ):
        opens.setdefault(study.trial_id, study)
    for obj in found_trials:
        publication = opens[obj.pk]
        ids = ", ".join(obj.registry_ids)
        groups["trials"].append(
            Hit(
                "trial",
                obj,
                obj.name,
                publication.get_absolute_url(),
                highlight(f"{obj.name}{f' ({ids})' if ids else ''}. {obj.note}", terms),
                obj.rank,
            )
        )
    for obj in _ranked(references, Reference, query, terms, limit):
        groups["references"].append(
            Hit(
                "reference",
                obj,
                obj.title,
                obj.get_absolute_url(),
                highlight(f"{obj.first_author} ({obj.year}). {obj.title}", terms),
                obj.rank,
            )
        )
    return groups
