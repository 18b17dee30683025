"""Site search: the stored, trigger-maintained vectors on PostgreSQL and what readers find."""

import pytest
from django.db import connection

from evidence.models import DiseaseSubtype, Outcome, Statement, Study, Trial
from evidence.search import SEARCH_FIELDS, search
from references.models import Reference
from tests.factories import make_studies
from therapies.models import Therapy

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="stored search vectors exist on PostgreSQL only"
)


def search_vector(model):
    """The weighted vector of ``SEARCH_FIELDS``, computed from the row's current text."""
    from django.contrib.postgres.search import SearchVector

    vectors = [
        SearchVector(name, weight=weight, config="english") for name, weight in SEARCH_FIELDS[model]
    ]
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector
    return combined


def stored(model, pk) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT search_vector::text FROM "{model._meta.db_table}" WHERE id = %s', [pk]
        )
        return cursor.fetchone()[0]


@postgres_only
@pytest.mark.parametrize(
    "model", [Therapy, DiseaseSubtype, Study, Reference, Statement, Trial, Outcome]
)
def test_stored_vectors_equal_the_vectors_of_the_current_text(model):
    # The migration's trigger and evidence.search.SEARCH_FIELDS must name the same fields with
    # the same weights; a difference would make search miss (or rank by) text it should not.
    rows = model.objects.annotate(computed=search_vector(model)).values_list("pk", "computed")
    assert rows, f"no {model.__name__} rows to compare"
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT id, search_vector::text FROM "{model._meta.db_table}"')
        stored_by_pk = dict(cursor.fetchall())
    mismatched = [pk for pk, computed in rows if stored_by_pk[pk] != str(computed)]
    assert mismatched == []


@postgres_only
def test_trigger_follows_save_update_and_bulk_create():
    study = Study.objects.get(key="ref01-rim-trial")
    study.label = "Zanubrutinib pilot"
    study.save()
    assert "zanubrutinib" in stored(Study, study.pk)
    Study.objects.filter(pk=study.pk).update(summary="Quokkas observed.")
    assert "quokka" in stored(Study, study.pk)
    created = make_studies(1)[0]  # bulk_create: no save(), no signal
    assert "synthet" in stored(Study, created.pk)
    # A write that leaves the text alone keeps the vector (the trigger fires on text columns).
    before = stored(Study, study.pk)
    Study.objects.filter(pk=study.pk).update(sample_size=999)
    assert stored(Study, study.pk) == before


@postgres_only
@pytest.mark.parametrize(
    "model", [Therapy, DiseaseSubtype, Study, Reference, Statement, Trial, Outcome]
)
def test_search_filters_on_the_gin_index_of_the_stored_column(model):
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.db.models import F

    from evidence.search import StoredVector

    query = SearchQuery("rituximab", search_type="websearch", config="english")
    queryset = (
        model.objects.alias(search=StoredVector())
        .filter(search=query)
        .annotate(rank=SearchRank(F("search"), query))
        .order_by("-rank", "pk")
    )
    with connection.cursor() as cursor:
        # The real corpus is small enough for a sequential scan to win; forbid it to see
        # whether the index can serve the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert f"{model._meta.db_table}_search_vector_gin" in plan, plan
    assert "to_tsvector" not in plan  # filtering and ranking parse no text


def test_edits_are_searchable_at_once():
    # Both backends: SQLite searches the text itself, PostgreSQL the trigger-kept vector.
    study = Study.objects.get(key="ref01-rim-trial")
    assert not search("zanubrutinib")["studies"]
    study.label = "Zanubrutinib in refractory myositis"
    study.save()
    hits = search("zanubrutinib")["studies"]
    assert [hit.obj.pk for hit in hits] == [study.pk]


def test_label_matches_rank_above_summary_matches():
    first, second = make_studies(2)
    Study.objects.filter(pk=first.pk).update(summary="Mentions quokkas in passing.")
    Study.objects.filter(pk=second.pk).update(label="Quokkas: a trial")
    hits = search("quokkas")["studies"]
    assert [hit.obj.pk for hit in hits] == [second.pk, first.pk]
    assert hits[0].rank > hits[1].rank


def test_search_fields_name_real_text_columns():
    for model, fields in SEARCH_FIELDS.items():
        for name, weight in fields:
            # JSON: a trial's list of registry ids, searched as its text.
            assert model._meta.get_field(name).get_internal_type() in (
                "CharField",
                "TextField",
                "JSONField",
            )
            assert weight in "ABCD"


def test_statements_are_searchable_and_open_on_their_therapy_page():
    # fixtures/statements.json: IVIg "in patients with severe swallowing difficulty".
    statement = Statement.objects.get(key="ivig-refractory-dysphagia-infection")
    hits = search("swallowing")["statements"]
    assert [hit.obj.pk for hit in hits] == [statement.pk]
    assert hits[0].url == f"{statement.therapy.get_absolute_url()}#statement-{statement.key}"
    assert "<mark>swallowing</mark>" in hits[0].snippet


def test_a_draft_statement_is_not_found_by_readers():
    Statement.objects.filter(key="ivig-refractory-dysphagia-infection").update(status="draft")
    assert search("swallowing")["statements"] == []


def test_a_registry_id_finds_its_trial_and_opens_the_primary_report():
    hits = search("NCT00106184")["trials"]
    rim = Trial.objects.get(key="rim")
    assert [hit.obj.pk for hit in hits] == [rim.pk]
    primary = rim.publications.get(publication_role="primary")
    assert hits[0].url == primary.get_absolute_url()
    assert "<mark>NCT00106184</mark>" in hits[0].snippet


def test_a_trial_name_is_searchable():
    rim = Trial.objects.get(key="rim")
    assert rim.pk in [hit.obj.pk for hit in search(rim.name.split()[0])["trials"]]


def test_an_outcome_finds_its_study_once():
    study = Study.objects.get(key="ref01-rim-trial")
    outcome = study.outcomes.first() or Outcome.objects.create(study=study, measure="other")
    Outcome.objects.filter(pk=outcome.pk).update(description="Quokka grip strength")
    Outcome.objects.create(study=study, measure=outcome.measure, description="Quokka count")
    hits = search("quokka")["studies"]
    assert [hit.obj.pk for hit in hits] == [study.pk]
    assert "Outcome" in hits[0].snippet and "<mark>Quokka</mark>" in hits[0].snippet


def test_search_page_shows_statements_and_trials(client):
    response = client.get("/search/?q=swallowing")
    assert "Statements (1)" in response.content.decode()
    response = client.get("/search/?q=NCT00106184")
    assert "Trials (1)" in response.content.decode()
