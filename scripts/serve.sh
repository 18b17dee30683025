#!/usr/bin/env bash
# One command from a fresh clone to a running app with the full corpus:
# virtualenv + install (scripts/bootstrap.sh), migrate, load the corpus, then the development
# server. Each step prints what it is doing.
#
# Environment:
#   HOST            address to listen on (default 127.0.0.1; 0.0.0.0 to reach it from other
#                   machines on the network)
#   PORT            port to listen on (default 8000)
#   ADMIN_USER      with ADMIN_PASSWORD: create this admin (superuser) login if no user of that
#   ADMIN_PASSWORD  name exists yet; ADMIN_EMAIL is optional. Without them the script prints
#                   the command that creates one.
#   SERVE_DRY_RUN   set to 1 to print what would be run (and the URL) without installing or
#                   starting anything (the tests use it).
#
# Example: HOST=0.0.0.0 PORT=8080 ADMIN_USER=curator ADMIN_PASSWORD='a long secret' scripts/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# The settings default to production (debug off, secret key and host names required): this is
# the development server, so it asks for debug mode explicitly.
export DJANGO_DEBUG=true
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
PY=.venv/bin/python
# 0.0.0.0 and :: listen everywhere, but a browser on this machine reaches them as localhost.
case "$HOST" in 0.0.0.0|::) BROWSE=localhost ;; *:*) BROWSE="[$HOST]" ;; *) BROWSE="$HOST" ;; esac
URL="http://$BROWSE:$PORT/"

run() {
  if [ "${SERVE_DRY_RUN:-}" = 1 ]; then echo "would run: $*"; else "$@"; fi
}

banner() {
  echo
  echo "MyoEvidence will be served at $URL (admin: ${URL}admin/)"
  if [ -n "${ADMIN_USER:-}" ] && [ -n "${ADMIN_PASSWORD:-}" ]; then
    echo "Admin login: $ADMIN_USER (from ADMIN_USER/ADMIN_PASSWORD)"
  else
    echo "Create an admin login: $PY manage.py createsuperuser"
    echo "  (or start with ADMIN_USER=... ADMIN_PASSWORD=... scripts/serve.sh)"
  fi
  echo "Stop the server with Ctrl-C."
  echo
}

run scripts/bootstrap.sh
echo "==> Applying database migrations"
run "$PY" manage.py migrate --noinput
echo "==> Loading the corpus (references, therapies, studies)"
run "$PY" manage.py load_corpus
if [ -n "${ADMIN_USER:-}" ] && [ -n "${ADMIN_PASSWORD:-}" ]; then
  # createsuperuser --noinput reads the password from DJANGO_SUPERUSER_PASSWORD (never from
  # the command line, where other users of the machine could see it in the process list).
  # The name reaches Python through the environment, never pasted into the code.
  if [ "${SERVE_DRY_RUN:-}" != 1 ] && ADMIN_USER="$ADMIN_USER" "$PY" manage.py shell -v 0 -c \
      "import os, sys; from django.contrib.auth import get_user_model; sys.exit(0 if get_user_model().objects.filter(username=os.environ['ADMIN_USER']).exists() else 1)"; then
    echo "==> The admin login '$ADMIN_USER' exists already; left as it is."
  else
    echo "==> Creating the admin login '$ADMIN_USER'"
    DJANGO_SUPERUSER_PASSWORD="$ADMIN_PASSWORD" DJANGO_SUPERUSER_EMAIL="${ADMIN_EMAIL:-}" \
      run "$PY" manage.py createsuperuser --noinput --username "$ADMIN_USER"
  fi
fi
banner
if [ "${SERVE_DRY_RUN:-}" = 1 ]; then
  echo "would run: $PY manage.py runserver $HOST:$PORT"
  exit 0
fi
exec "$PY" manage.py runserver "$HOST:$PORT"
