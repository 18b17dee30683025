#!/usr/bin/env bash
# Run everything CI runs (installs what it needs first): the style and type checks, then the
# whole test suite. Extra arguments go to pytest.
# Uses SQLite unless DATABASE_URL points elsewhere, e.g.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/myoevidence scripts/test.sh
# SKIP_CHECKS=1 runs pytest alone (.ci/run's second database: the checks do not depend on it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser
if [ "${SKIP_CHECKS:-}" != 1 ]; then
  echo "==> ruff format --check (fix: .venv/bin/ruff format .)"
  .venv/bin/ruff format --check .
  echo "==> ruff check"
  .venv/bin/ruff check .
  # Development settings: production (the default) refuses to start without its secrets.
  echo "==> makemigrations --check (models changed without a migration?)"
  DJANGO_DEBUG=true .venv/bin/python manage.py makemigrations --check --dry-run
  echo "==> mypy on services, selectors and the API, against mypy-baseline.txt"
  .venv/bin/python scripts/mypy_baseline.py
fi
# One worker per core (pytest-xdist; each has its own test database and loads the corpus
# once): a pass took 6-10 min on one core of two. TEST_WORKERS=0 runs in this process alone
# (e.g. with --pdb); arguments given after it override it (-n 4).
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-auto}" "$@"
