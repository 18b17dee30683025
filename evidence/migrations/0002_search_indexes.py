"""GIN full-text indexes for site search, on PostgreSQL only (SQLite uses the fallback).

Each index expression is the weighted tsvector of evidence.search.SEARCH_FIELDS.
Superseded by 0004, which stores that vector in a column (ranking re-parsed every matching
row's text) and drops these indexes; its reverse recreates them with ``create`` below.
"""

from django.db import migrations

INDEXES = {
    "search_therapy_gin": ("therapies_therapy", [
        ("name", "A"), ("synonyms", "A"), ("brand_names", "A"), ("mechanism", "B"),
        ("review_summary", "C")]),
    "search_subtype_gin": ("evidence_diseasesubtype", [
        ("name", "A"), ("abbreviation", "A"), ("synonyms", "A"), ("description", "B")]),
    "search_study_gin": ("evidence_study", [
        ("label", "A"), ("summary", "B"), ("primary_endpoint", "C"), ("comparator", "C"),
        ("adverse_events", "C")]),
    "search_reference_gin": ("references_reference", [
        ("title", "A"), ("first_author", "B"), ("journal", "C"), ("notes", "D")]),
}


def vector_sql(table: str, fields) -> str:
    parts = [
        f"setweight(to_tsvector('english'::regconfig, COALESCE(\"{table}\".\"{name}\", '')), "
        f"'{weight}')"
        for name, weight in fields
    ]
    return " || ".join(parts)


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, fields) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin (({vector_sql(table, fields)}))'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0001_initial"),
        ("references", "0001_initial"),
        ("therapies", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
