"""gunicorn settings for MyoEvidence: ``gunicorn -c gunicorn.conf.py config.wsgi``.

Every value can be changed through the environment (defaults in brackets):

GUNICORN_BIND            address to listen on [127.0.0.1:8000]; behind nginx keep it on
                         loopback or a private address, never the public one
GUNICORN_WORKERS         worker processes [2 x CPU cores + 1]
GUNICORN_THREADS         threads per worker [4]; >1 uses gthread workers, so slow clients and
                         slow queries do not hold a whole process
GUNICORN_TIMEOUT         seconds before a stuck worker is killed and replaced [60]
GUNICORN_GRACEFUL_TIMEOUT  seconds a worker gets to finish its requests on restart/stop [30]
GUNICORN_KEEPALIVE       seconds to keep an idle client connection open [5]
GUNICORN_MAX_REQUESTS    requests before a worker is recycled (0 = never) [50000, with jitter]
GUNICORN_ACCESS_LOG      access log file, "-" for stdout, "" for none [-]
GUNICORN_LOG_LEVEL       gunicorn's own log level [info]

The access log is written as JSON lines (``core.logging.GunicornLogger``), with the request id
that the application returns in X-Request-ID. The application's own logs are JSON lines too
when ``DJANGO_DEBUG`` is off (see config/settings.py, "Production hardening").
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycling guards against slow leaks; every 1,000 requests it cost cached pages 28-69% of
# their throughput in the benchmark (workers restart under load), hence a long interval.
max_requests = _int("GUNICORN_MAX_REQUESTS", 50000)
max_requests_jitter = max(max_requests // 10, 0)

# Requests larger than these are refused by gunicorn with 400 before Django sees them: a request
# line (path + query string) of 8 KB is far beyond any link the site makes.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
limit_request_fields = 100
limit_request_field_size = 8190

# The app is imported in each worker rather than in the master: a worker that gets a broken
# database connection or a bad import fails alone, and database connections are never shared
# across a fork.
preload_app = False

wsgi_app = "config.wsgi:application"
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "core.logging.GunicornLogger"
# Trust X-Forwarded-* only from the proxy on this machine (nginx on loopback); set
# FORWARDED_ALLOW_IPS to the proxy's address when it runs elsewhere.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "myoevidence"


def post_worker_init(worker):
    """Import the URLconf, and with it every view, the REST framework and the API schema,
    before the worker takes its first request: Django imports them on the first request
    otherwise, which made that request (in every new worker, and again after each recycling)
    about 150 ms slower.

    Then move everything loaded so far (modules, classes, the URLconf: objects that live as
    long as the worker) out of the garbage collector's reach (``gc.freeze``). A full
    collection otherwise walks them all again each time, and a large export or a page
    computed at +100k studies sets off several: 0.3 s of a 3.7 s BibTeX export at scale,
    0.1 s after the freeze (bench/RESULTS.md)."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the property's import is the point
    gc.freeze()
