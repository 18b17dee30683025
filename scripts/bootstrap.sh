#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the project with its dev extras. Safe to re-run:
# it reinstalls only when pyproject.toml changed since the last install.
# With --browser it also provides what the browser tests need: Debian's chromium (apt, as root)
# and axe-core from the npm registry (package.json).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  rm -f .venv/.installed-* && touch "$stamp"
fi
if [ "${1:-}" = "--browser" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "Installing Debian's chromium for the browser tests..."
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    fi
  fi
  lock=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
  if [ ! -f "$lock" ]; then
    if command -v npm >/dev/null; then
      npm ci --no-audit --no-fund --silent && touch "$lock"
    else
      echo "The accessibility tests need npm (Node.js) to install axe-core" >&2
    fi
  fi
fi
