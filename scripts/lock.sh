#!/usr/bin/env bash
# Recompile requirements.lock, the exact versions (with hashes) that scripts/bootstrap.sh installs,
# from pyproject.toml's dependencies and dev extras, for Python 3.11 on any platform.
# Run it after changing the dependencies in pyproject.toml and commit both files. Versions already
# in the lock are kept where they still fit; `scripts/lock.sh --upgrade` moves all to the newest.
# Needs uv (a dev extra: .venv/bin/uv after scripts/bootstrap.sh), or UV=/path/to/uv.
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-.venv/bin/uv}"
exec "$UV" pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
  --generate-hashes --custom-compile-command scripts/lock.sh -o requirements.lock "$@"
