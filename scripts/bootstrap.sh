#!/usr/bin/env bash
# Create .venv (Python 3.11+) and install the exact versions in requirements.lock (with their
# hashes), then the project itself (editable, --no-deps: its dependencies are the lock's). Safe to
# re-run: it reinstalls only when requirements.lock or pyproject.toml changed since the last
# install. After changing the dependencies in pyproject.toml, recompile the lock: scripts/lock.sh.
# With --browser it also provides what the browser tests need: Debian's chromium (apt, as root)
# and axe-core from the npm registry (package.json).
#
# Environment: PYTHON (default python3) is the interpreter that creates .venv.
# A first install takes about a minute: each step says what it is doing, and pip shows its
# download progress bars but not its per-package notices (-q) or its version nag.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# --progress-bar is an option of `pip install`, not of pip itself: it goes after `install`.
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
  echo "==> Creating the virtualenv .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "==> Upgrading pip"
  "${PIP[@]}" install --progress-bar on --upgrade pip
  echo "==> Installing the locked dependencies (requirements.lock) into .venv (about a minute the first time)"
  "${PIP[@]}" install --progress-bar on --require-hashes -r requirements.lock
  echo "==> Installing MyoEvidence itself (editable)"
  "${PIP[@]}" install --progress-bar on --no-deps -e .
  rm -f .venv/.installed-* && touch "$stamp"
  echo "==> Installed."
else
  echo "==> Dependencies are up to date (.venv matches requirements.lock and pyproject.toml)."
fi
if [ "${1:-}" = "--browser" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "==> Installing Debian's chromium for the browser tests..."
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2
    fi
  fi
  lock=node_modules/.installed-$(sha1sum package-lock.json | cut -c1-12)
  if [ ! -f "$lock" ]; then
    if command -v npm >/dev/null; then
      echo "==> Installing axe-core (npm ci)..."
      npm ci --no-audit --no-fund --silent && touch "$lock"
    else
      echo "The accessibility tests need npm (Node.js) to install axe-core" >&2
    fi
  fi
fi
