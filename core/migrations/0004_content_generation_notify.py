"""On PostgreSQL, every change of the content generation is announced to listeners.

A trigger on the one-row table sends ``NOTIFY myoevidence_generation, '<value>'`` for each
insert or update, whoever makes it (the application, a raw ``UPDATE``, the benchmark). PostgreSQL
delivers it when the writing transaction commits, and not at all if it rolls back. Each serving
process listens (``core.caching.listener``) and so knows the current generation without asking
the database on every request. SQLite has no notifications: nothing to do there.
"""

from django.db import migrations

CHANNEL = "myoevidence_generation"

CREATE = f"""
CREATE OR REPLACE FUNCTION core_contentgeneration_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.value::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_contentgeneration_notify
    AFTER INSERT OR UPDATE ON core_contentgeneration
    FOR EACH ROW EXECUTE FUNCTION core_contentgeneration_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS core_contentgeneration_notify ON core_contentgeneration;
DROP FUNCTION IF EXISTS core_contentgeneration_notify();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_content_generation"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
