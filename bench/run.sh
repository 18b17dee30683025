#!/usr/bin/env bash
# The benchmark (not part of the test suite): bench/run.sh [--studies N] [--seconds S] ...
# Serves the app with gunicorn in production mode on a PostgreSQL database of its own, drives it
# with wrk, prints the table and writes it to bench/RESULTS.md. About 10 minutes on 2 CPUs;
# then bench/export_memory.py measures the full exports' memory at two corpus sizes.
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres), Redis on 127.0.0.1:6379 and wrk; it
# starts Redis and installs wrk (Debian, as root) when they are missing. See bench/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh >/dev/null
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "The benchmark needs wrk: sudo apt-get install wrk" >&2; exit 1
  fi
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
fi
status=0
.venv/bin/python bench/bench.py "$@" || status=$?
case " $* " in *" --render-only "* | *" -h "* | *" --help "*) exit "$status" ;; esac
# Then the full exports' peak Python memory at two corpus sizes (flat or not; a few minutes):
# its own database, its own block in bench/RESULTS.md. See bench/export_memory.py.
.venv/bin/python bench/export_memory.py || status=$?
exit "$status"
