"""Migrations apply forward, all the way back, and forward again, on a fresh database of the
configured kind (PostgreSQL in production and CI; SQLite by default).

Runs ``manage.py migrate`` in a subprocess against a database of its own, so the session's
test database (with the corpus) is untouched.
"""

import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings
from django.db import connection

APPS = ["evidence", "therapies", "references", "core"]


def manage(*args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture
def fresh_database_url(tmp_path):
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    import psycopg2

    params = connection.get_connection_params()
    name = f"myoevidence_migrations_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(
        dbname="postgres",
        **{k: v for k, v in params.items() if k in ("user", "host", "port", "password")},
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    user, host = params.get("user", "postgres"), params.get("host", "127.0.0.1")
    password = f":{params['password']}" if params.get("password") else ""
    try:
        yield f"postgres://{user}{password}@{host}:{params.get('port', 5432)}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.django_db
def test_migrations_go_forward_backward_and_forward(fresh_database_url):
    env = dict(os.environ, DATABASE_URL=fresh_database_url)
    manage("migrate", "--noinput", env=env)
    manage("load_corpus", env=env)  # reversing must also work with data in the tables
    for app in APPS:
        manage("migrate", app, "zero", "--noinput", env=env)
    shown = manage("showmigrations", *APPS, env=env)
    assert "[X]" not in shown
    manage("migrate", "--noinput", env=env)
    shown = manage("showmigrations", *APPS, env=env)
    assert "[ ]" not in shown
    manage("makemigrations", "--check", "--dry-run", env=env)  # models and migrations agree
