"""Settings for MyoEvidence: every value comes from the environment.

Production is the default and fails closed: with ``DJANGO_DEBUG`` unset (or false) the app
refuses to start without ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``, and every hardening
setting below is on. A developer's machine says ``DJANGO_DEBUG=true`` (scripts/serve.sh does),
and gets safe defaults that need nothing installed (SQLite, local-memory cache). The tests run
with tests/settings.py, which turns debug on in the same way.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless asked for: a production start that forgets the variable must not run in debug mode.
DEBUG = env_bool("DJANGO_DEBUG", False)


def _required_in_production(name: str, what: str) -> None:
    # One sentence naming the variable; manage.py prints it without a traceback.
    raise ImproperlyConfigured(
        f"{name} is not set: production mode (the default, DJANGO_DEBUG unset or false) needs "
        f"{what}; on a development machine set DJANGO_DEBUG=true instead."
    )


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        _required_in_production("DJANGO_SECRET_KEY", "a long random secret key")
    # Only ever used with DEBUG on, on a developer's machine.
    SECRET_KEY = "django-insecure-development-only-key-not-for-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
if not ALLOWED_HOSTS and not DEBUG:
    # Django would start and answer 400 to every request: refuse at once instead.
    _required_in_production(
        "DJANGO_ALLOWED_HOSTS",
        "the site's host names, comma-separated (e.g. myoevidence.example.org)",
    )

INSTALLED_APPS = [
    # django.contrib.admin with the site's AdminSite (core/admin.py: the review queue).
    "core.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    # Production hardening: Content-Security-Policy, admin login lockout.
    "csp",
    "axes",
    "core",
    "references",
    "therapies",
    "evidence",
    # Frozen, citable data releases (imports evidence; only config.urls imports it).
    "releases",
]

MIDDLEWARE = [
    # Outermost: after a content change, the pages readers were reading are rendered again
    # once everything below is done with this request (core/caching/refresh.py).
    "core.middleware.RefreshAheadMiddleware",
    # Next: every response and every log line of the request carries its id.
    "core.logging.RequestIdMiddleware",
    # Next: any error under /api/ leaves as JSON, whichever layer below produced it.
    "core.middleware_api.APIErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above the session and authentication: a cached page is answered without touching them.
    # Above the two header middlewares too: their headers are the same for every anonymous
    # page, so they are stored with it and a hit does not rebuild them. And above the three
    # checks of the request below: only a 200 is stored, so a stored page's address passed
    # them when it was rendered (a bad address is a miss, and gets their answer).
    "core.middleware.PageCacheMiddleware",
    "core.security.URLLengthLimitMiddleware",
    # NUL characters in the path, query string or a form: 400 before any view or query.
    "core.security.NullCharacterMiddleware",
    # Database down: 503 with Retry-After, not a 500.
    "core.middleware_db.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.security.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: refuses logins locked out after repeated failures.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# Django's renderer with its plain widgets written in Python (same HTML, no template round
# trip per checkbox): the filter forms were a third of a page's template time (issue 16).
FORM_RENDERER = "core.form_renderer.FastWidgetRenderer"

WSGI_APPLICATION = "config.wsgi.application"


def conn_max_age(value: str) -> int | None:
    """``DATABASE_CONN_MAX_AGE``: seconds a thread keeps its connection, or persistent (unset,
    ``none``). Persistent by default: a connection past its age is closed at the start of
    the thread's next request, whether that request needs the database or not (a page
    served from the caches does not), and that close took 1.5-4 ms of some readers'
    requests at +100k studies. The health check still replaces a connection that broke
    (a restarted PostgreSQL)."""
    value = value.strip().lower()
    if value in ("", "none"):
        return None
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"DATABASE_CONN_MAX_AGE: '{value}' is not a number of seconds or 'none'."
        ) from None


DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=conn_max_age(os.environ.get("DATABASE_CONN_MAX_AGE", "")),
        # Re-checks a kept connection before use, so a restarted PostgreSQL is survived.
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def cache_from_url(url: str) -> dict:
    """A CACHES entry from ``CACHE_URL``: ``redis://host:port/db`` (shared by every instance),
    ``locmem://`` (this process only) or ``dummy://`` (caches nothing)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in {"redis", "rediss", "unix"}:
        return {
            # Django's own Redis backend, configured through its public OPTIONS only. Each
            # process keeps its own copies of cached pages and values (core.caching.local), so
            # Redis is a second level read rarely (the first time a process needs an entry):
            # the per-call client Django builds costs nothing that matters there.
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # A slow or absent Redis must not hang requests: the caches then step aside.
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                # One pool per process, shared by its threads (core/caching/shared.py).
                "pool_class": "core.caching.shared.SharedConnectionPool",
            },
        }
    if scheme == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": url.split("://", 1)[1] or "myoevidence",
        }
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ImproperlyConfigured(
        f"CACHE_URL: unsupported scheme '{scheme}' (use redis://, locmem:// or dummy://)."
    )


CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", "locmem://"))}
# Several deployments (or a test run) can share one Redis without seeing each other's keys.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "myoevidence")

# Whole-page cache for anonymous GET requests (core/middleware.py, core/caching/pages.py), in
# seconds; 0 turns it off. Every stored page is checked against the content generation, a
# counter in the database that every content change moves on in its own transaction
# (core/caching/generation.py), so a change made by any process reaches every process on its
# next request, with or without Redis.
MYOEVIDENCE_PAGE_CACHE_SECONDS = int(os.environ.get("MYOEVIDENCE_PAGE_CACHE_SECONDS", "300"))
# On PostgreSQL each serving process learns the generation from the database's notifications
# instead of reading it on every request (core/caching/listener.py: one more connection per
# process). Turn it off behind a connection pooler in transaction mode, where LISTEN cannot work.
MYOEVIDENCE_GENERATION_LISTEN = os.environ.get(
    "MYOEVIDENCE_GENERATION_LISTEN", "true"
).strip().lower() not in ("0", "false", "no", "off")
# Each process keeps pages it has stored or served, up to this many bytes of content; with
# Redis (CACHE_URL=redis://...) they are shared through it too.
MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES = int(
    os.environ.get("MYOEVIDENCE_PAGE_CACHE_LOCAL_BYTES", str(16 * 1024 * 1024))
)
# Values that cost work proportional to the corpus (the evidence matrix, chart aggregates,
# list counts, search rankings) kept per content generation (core.caching.data.per_generation);
# 0 turns it off. The generation, not this timeout, decides freshness: the timeout only lets
# unused entries go.
MYOEVIDENCE_DATA_CACHE_SECONDS = int(os.environ.get("MYOEVIDENCE_DATA_CACHE_SECONDS", "3600"))
# Each process keeps values (pickled) up to this many bytes; shared through Redis too.
MYOEVIDENCE_DATA_CACHE_LOCAL_BYTES = int(
    os.environ.get("MYOEVIDENCE_DATA_CACHE_LOCAL_BYTES", str(32 * 1024 * 1024))
)
# Refresh ahead (core/caching/refresh.py): a request that commits a content change renders, before
# its response leaves, up to PAGES of the anonymous pages readers needed computed within the last
# HOT_SECONDS, newest first, starting none after SECONDS; the curator waits, the next reader
# does not. SECONDS=0 turns it off.
MYOEVIDENCE_REFRESH_AHEAD_SECONDS = float(os.environ.get("MYOEVIDENCE_REFRESH_AHEAD_SECONDS", "10"))
MYOEVIDENCE_REFRESH_AHEAD_PAGES = int(os.environ.get("MYOEVIDENCE_REFRESH_AHEAD_PAGES", "32"))
MYOEVIDENCE_REFRESH_AHEAD_HOT_SECONDS = int(
    os.environ.get("MYOEVIDENCE_REFRESH_AHEAD_HOT_SECONDS", str(24 * 3600))
)
# Full exports (BibTeX, RIS, CSL-JSON, the studies CSV) kept as files per content generation
# (core/caching/downloads.py): rendered by their first reader, sent as files to the next ones.
# A folder of this user's own; "" turns it off.
MYOEVIDENCE_DOWNLOAD_DIR = os.environ.get(
    "MYOEVIDENCE_DOWNLOAD_DIR",
    str(Path(tempfile.gettempdir()) / f"myoevidence-downloads-{os.getuid()}"),
)
# Never cached: the admin (staff only) and the health check (must reach the database).
MYOEVIDENCE_PAGE_CACHE_EXCLUDE = ("/admin/", "/healthz")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["core.api.filters.FilterBackend"],
    # Integrators' scripts send a token; the session serves staff trying /api/docs/.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ReadAnyoneWriteCurators"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "DEFAULT_RENDERER_CLASSES": ["core.api.renderers.JSONRenderer"],
    # DRF's JSON parser, bounded: body size, nesting depth, NUL and lone surrogates (400/413).
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.api.renderers.ContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.throttling.AnonThrottle",
        "core.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("MYOEVIDENCE_API_ANON_RATE", "120/minute"),
        "user": os.environ.get("MYOEVIDENCE_API_USER_RATE", "1200/minute"),
    },
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MyoEvidence API",
    "DESCRIPTION": (
        "Treatment evidence for idiopathic inflammatory myopathies: therapies, disease "
        "subtypes, studies with their outcomes, the bibliography and the drug x subtype "
        "matrix.\n\n"
        "* **Reading** needs no account; anonymous clients see published content and are "
        "rate-limited (429 with Retry-After).\n"
        "* **Writing** needs a token (`Authorization: Token <key>`) of a curator or editor.\n"
        "* **Lists** are paginated (`page`, `page_size` up to 500) and take the same filters as "
        "the site's pages; `?format=csv` (and for references bibtex, ris, csljson) returns "
        "every matching record, unpaginated and streamed.\n"
        "* **Conditional requests**: send back ETag as If-None-Match (304 when unchanged) and "
        "as If-Match on writes (412 when someone else changed the record).\n"
        "* Codes (designs, results, levels, subtypes) are stable: they are never renamed."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": True,
    # The same choice lists appear on several models; name them once.
    "ENUM_NAME_OVERRIDES": {
        "ReviewStatusEnum": "core.choices.ReviewStatus",
        "StudyDesignEnum": "evidence.choices.StudyDesign",
        "ResultDirectionEnum": "evidence.choices.ResultDirection",
        "EvidenceLevelEnum": "evidence.choices.EvidenceLevel",
        "AgeGroupEnum": "evidence.choices.AgeGroup",
        "ReferenceKindEnum": "references.choices.ReferenceKind",
        "ReviewPositionEnum": "therapies.choices.ReviewPosition",
        # The synthesis layer (issue 13).
        "ArmRoleEnum": "evidence.choices.ArmRole",
        "ReferenceRoleEnum": "references.choices.ReferenceRole",
        "CertaintyEnum": "evidence.choices.Certainty",
        "DirectionEnum": "evidence.choices.Direction",
        "CertaintyReasonEnum": "evidence.choices.CertaintyReason",
        "DataAvailabilityEnum": "evidence.choices.DataAvailability",
        "PublicationRoleEnum": "evidence.choices.PublicationRole",
        "TrialKindEnum": "evidence.choices.TrialKind",
    },
}

# Where the source review lives; the tests parse it to check the corpus against it.
MYOEVIDENCE_SOURCE_REVIEW = Path(
    os.environ.get(
        "MYOEVIDENCE_SOURCE_REVIEW", BASE_DIR.parent / "shared" / "source" / "review.txt"
    )
)
MYOEVIDENCE_FIXTURES = Path(os.environ.get("MYOEVIDENCE_FIXTURES", BASE_DIR / "fixtures"))
# The largest BibTeX file the importer (command and admin upload) accepts.
MYOEVIDENCE_IMPORT_MAX_BYTES = int(os.environ.get("MYOEVIDENCE_IMPORT_MAX_BYTES", 5 * 1024 * 1024))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    # bibtexparser logs every malformed block; our importer reports them to the user instead.
    "loggers": {"bibtexparser": {"level": "ERROR"}},
}

# --- Production hardening ---
# HTTPS, cookies, security headers, Content-Security-Policy, admin login lockout, structured
# logs, the 503 page. All on when DJANGO_DEBUG is off; each has a switch for deployments that
# need otherwise (e.g. DJANGO_SECURE_SSL_REDIRECT=false for a plain-HTTP benchmark on loopback).
# The production recipe (nginx in front, gunicorn, PostgreSQL, Redis) is in docs/production.md.

# TLS ends at the reverse proxy, which tells us the original scheme in this header. Trust it
# only behind a proxy that always sets it (nginx: proxy_set_header X-Forwarded-Proto $scheme);
# an empty value turns it off.
_PROXY_SSL_HEADER = os.environ.get(
    "DJANGO_SECURE_PROXY_SSL_HEADER", "" if DEBUG else "X-Forwarded-Proto"
).strip()
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe the health check over plain HTTP, straight at gunicorn.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(
    os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600))
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent by core.security.PermissionsPolicyMiddleware: features the site never uses.
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), payment=(), usb=()"
)

# Cookies only over HTTPS and never readable by JavaScript (the site has none of its own; the
# API's Swagger page authenticates writes with a token, which needs no CSRF cookie).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp): no inline script or style anywhere, everything from our
# own origin. The Swagger page (/api/docs/) loads its init script as a separate file
# (SpectacularSwaggerSplitView); Swagger UI's CSS uses data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
if os.environ.get("DJANGO_CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [os.environ["DJANGO_CSP_REPORT_URI"]]

# The one trusted-proxy setting. How many reverse proxies (each appending to X-Forwarded-For)
# stand between clients and the app: 1 behind a single nginx; 0 (the default) uses the
# connecting address (REMOTE_ADDR). Everything that needs the client's address takes it from
# core.security.client_ip, which reads only this: the admin login lockout (django-axes), the
# API's rate limits (core.api.throttling) and the JSON log lines (core.logging).
MYOEVIDENCE_PROXY_COUNT = int(os.environ.get("MYOEVIDENCE_PROXY_COUNT", "0"))
# DRF's own setting, for anything in DRF that calls get_ident directly; our throttles do not
# read it (they call client_ip). Without it DRF would key clients on the whole X-Forwarded-For
# header, which a client can vary to dodge a limit.
REST_FRAMEWORK["NUM_PROXIES"] = MYOEVIDENCE_PROXY_COUNT

# Admin login: after MYOEVIDENCE_LOGIN_FAILURE_LIMIT wrong passwords from one address, whatever
# usernames they tried, that address is refused (429) for MYOEVIDENCE_LOGIN_COOLOFF_MINUTES.
# Counting per (username, address) pair alone let one address try that many passwords on every
# username it could guess. Never per username alone: an attacker could then lock a curator out
# from anywhere. (axes compares the largest of the counts with one limit, so listing the pair
# as well would change nothing.) Colleagues behind one NAT address share the budget; unlock
# early with manage.py axes_reset_ip ADDRESS. Attempts are kept in the database, shared by every
# app instance.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("MYOEVIDENCE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("MYOEVIDENCE_LOGIN_COOLOFF_MINUTES", "15")) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"

# models.W040: Reference and Study have an Index(include=["id"]), a covering index that lets
# PostgreSQL answer the list pages' keyset queries from the index alone. SQLite has no INCLUDE
# and builds the same index on the key columns only: the queries and results are the same, just
# without the index-only scan, so the warning (shown twice by migrate and runserver) is safe to
# silence there. On PostgreSQL the check passes by itself; it stays on for any other backend.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Where collectstatic gathers the hashed, compressed static files that whitenoise serves.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", STATIC_ROOT))

# "Add from PMID or DOI" in the references admin (references/lookup.py) asks NCBI E-utilities
# (esummary, for a PMID) and Crossref (/works/<doi>, for a DOI). The base URLs can point at a
# mirror or a test server; the timeout (seconds) keeps a slow service from holding the admin
# request; NCBI and Crossref ask clients for a contact e-mail (sent as NCBI's "email" and in
# Crossref's User-Agent), and an NCBI API key raises NCBI's rate limit from 3 to 10 a second.
MYOEVIDENCE_NCBI_BASE_URL = os.environ.get(
    "MYOEVIDENCE_NCBI_BASE_URL", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
)
MYOEVIDENCE_CROSSREF_BASE_URL = os.environ.get(
    "MYOEVIDENCE_CROSSREF_BASE_URL", "https://api.crossref.org"
)
MYOEVIDENCE_LOOKUP_TIMEOUT = float(os.environ.get("MYOEVIDENCE_LOOKUP_TIMEOUT", "10"))
MYOEVIDENCE_NCBI_API_KEY = os.environ.get("MYOEVIDENCE_NCBI_API_KEY", "")
MYOEVIDENCE_CONTACT_EMAIL = os.environ.get("MYOEVIDENCE_CONTACT_EMAIL", "")

# Entries one BibTeX import may hold: the admin checks and imports an upload within one
# request (about 20 ms an entry). Bigger files are refused with a request to split them.
MYOEVIDENCE_IMPORT_MAX_ENTRIES = int(os.environ.get("MYOEVIDENCE_IMPORT_MAX_ENTRIES", "1000"))

# Longer URLs (path + query string) get 414 from the app too, whatever the server (gunicorn
# already refuses request lines over 8 KB with 400).
MYOEVIDENCE_MAX_URL_BYTES = int(os.environ.get("MYOEVIDENCE_MAX_URL_BYTES", "32768"))

# A database host that does not answer at all (down, packets dropped) must fail fast, so that
# requests get the 503 below within seconds instead of holding workers until TCP gives up.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    )

# While the database is unreachable every request gets a 503 asking to retry after this long.
MYOEVIDENCE_RETRY_AFTER_SECONDS = int(os.environ.get("MYOEVIDENCE_RETRY_AFTER_SECONDS", "10"))

# Logs: JSON lines (one object per line, with the request id) in production, plain text while
# debugging; DJANGO_LOG_FORMAT=json|plain overrides.
LOGGING["formatters"]["json"] = {"()": "core.logging.JSONFormatter"}
LOGGING["filters"] = {"request_id": {"()": "core.logging.RequestIdFilter"}}
LOGGING["handlers"]["console"]["filters"] = ["request_id"]
LOGGING["handlers"]["console"]["formatter"] = os.environ.get(
    "DJANGO_LOG_FORMAT", "plain" if DEBUG else "json"
)
# gunicorn warns on every HEAD request that Django's response has a body (it drops it, as it
# should): noise, e.g. from load balancers probing with HEAD.
LOGGING["loggers"]["gunicorn.http.wsgi"] = {"level": "ERROR"}
# axes logs "AXES: BEGIN version ..." once per process at start; the development server's
# autoreloader starts two processes, each running the checks, so a first start printed it four
# times. Only that start line comes from axes.apps: lockouts (axes.handlers) still log.
if DEBUG:
    LOGGING["loggers"]["axes.apps"] = {"level": "WARNING"}
# --- end of production hardening ---
