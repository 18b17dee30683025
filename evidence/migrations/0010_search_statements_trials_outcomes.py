"""Stored search vectors for statements, trials and outcomes (PostgreSQL only, as 0004).

Readers read the review's statements, the trials' names and registry ids and the studies'
outcomes, so site search covers them too (issue 17). Each table gets the same kind of
trigger-kept, GIN-indexed ``search_vector`` column as in 0004; the fields and weights are
frozen here and ``evidence.search.SEARCH_FIELDS`` must match them (tests/evidence/test_search.py
compares the stored vector with the one computed from the current text). ``registry_ids`` is a
JSON list: its text (``["NCT00106184"]``) parses to the id itself, which is what a reader types.
"""

from django.db import migrations

COLUMN = "search_vector"

TABLES = {
    "evidence_statement": [("text", "A")],
    "evidence_trial": [("name", "A"), ("registry_ids", "A"), ("note", "C")],
    "evidence_outcome": [("description", "B"), ("value", "C"), ("timepoint", "D")],
}


def vector_sql(row: str, fields) -> str:
    # ::text as Django's SearchVector casts each field (a no-op for text, the JSON text of a list).
    return " || ".join(
        f"setweight(to_tsvector('english'::regconfig, COALESCE(({row}.\"{name}\")::text, '')),"
        f" '{weight}')"
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


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        function = f"{table}_{COLUMN}"
        schema_editor.execute(f'DROP TRIGGER IF EXISTS {function} ON "{table}"')
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}()")
        schema_editor.execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS {COLUMN}')


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0009_synthesis_group_permissions"),
    ]

    operations = [migrations.RunPython(create, drop)]
