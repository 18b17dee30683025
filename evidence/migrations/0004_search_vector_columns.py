"""Stored search vectors for site search, on PostgreSQL only (SQLite uses the fallback).

0002 indexed an *expression* (the weighted tsvector of a row's text). The index finds the
matching rows, but ranking them recomputed ``to_tsvector`` for every match from the text: with
100k studies a common drug name matches tens of thousands of rows and the search page took
seconds. Here each searchable table gets a ``search_vector`` column holding that same vector,
kept current by a trigger (BEFORE INSERT, and BEFORE UPDATE of the text columns), with a GIN
index on the column; ``evidence.search`` filters and ranks on the stored value.

The column is not a model field on purpose: it exists on PostgreSQL only, no form, serializer,
export or history table should carry it, and the trigger fills it whatever writes the row
(the ORM, ``bulk_create``, ``update()``, raw SQL). The fields and weights are frozen here;
``evidence.search.SEARCH_FIELDS`` must match them (tests/evidence/test_search.py checks that
the stored vector equals the vector computed from the model's current text).
"""

import importlib

from django.db import migrations

COLUMN = "search_vector"

TABLES = {
    "therapies_therapy": [
        ("name", "A"), ("synonyms", "A"), ("brand_names", "A"), ("mechanism", "B"),
        ("review_summary", "C")],
    "evidence_diseasesubtype": [
        ("name", "A"), ("abbreviation", "A"), ("synonyms", "A"), ("description", "B")],
    "evidence_study": [
        ("label", "A"), ("summary", "B"), ("primary_endpoint", "C"), ("comparator", "C"),
        ("adverse_events", "C")],
    "references_reference": [
        ("title", "A"), ("first_author", "B"), ("journal", "C"), ("notes", "D")],
}


def vector_sql(row: str, fields) -> str:
    return " || ".join(
        f"setweight(to_tsvector('english'::regconfig, COALESCE({row}.\"{name}\", '')), '{weight}')"
        for name, weight in fields
    )


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, fields in TABLES.items():
        function = f"{table}_{COLUMN}"
        columns = ", ".join(f'"{name}"' for name, _ in fields)
        schema_editor.execute(f'ALTER TABLE "{table}" ADD COLUMN {COLUMN} tsvector')
        schema_editor.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n  NEW.{COLUMN} := {vector_sql('NEW', fields)};\n  RETURN NEW;\nEND\n$$"
        )
        schema_editor.execute(
            f'CREATE TRIGGER {function} BEFORE INSERT OR UPDATE OF {columns} ON "{table}" '
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
        schema_editor.execute(
            f'UPDATE "{table}" SET {COLUMN} = {vector_sql(chr(34) + table + chr(34), fields)}')
        schema_editor.execute(
            f'CREATE INDEX {table}_{COLUMN}_gin ON "{table}" USING gin ({COLUMN})')
    # The expression indexes of 0002 are no longer used by any query.
    earlier().drop(apps, schema_editor)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    earlier().create(apps, schema_editor)
    for table in TABLES:
        function = f"{table}_{COLUMN}"
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {function} ON "{table}"')
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS {COLUMN}')


def earlier():
    return importlib.import_module("evidence.migrations.0002_search_indexes")


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0003_performance_indexes"),
        ("references", "0003_performance_indexes"),
        ("therapies", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
