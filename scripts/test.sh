#!/usr/bin/env bash
# Run the whole test suite (installs what it needs first). Extra arguments go to pytest.
# Uses SQLite unless DATABASE_URL points elsewhere, e.g.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/myoevidence scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --browser
exec .venv/bin/python -m pytest "$@"
