#!/usr/bin/env bash
# One command from a fresh clone to a running app with the full corpus:
# virtualenv + install, migrate, load the corpus, serve on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
# The settings default to production (debug off, secret key and host names required): this is
# the development server, so it asks for debug mode explicitly.
export DJANGO_DEBUG=true
scripts/bootstrap.sh
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py load_corpus
exec .venv/bin/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
