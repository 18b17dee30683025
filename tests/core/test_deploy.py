"""Production mode (DJANGO_DEBUG off): Django's deployment checks pass, the settings are the
hardened ones (with their documented switches), collectstatic produces hashed, compressed files
that pages reference and whitenoise serves, and gunicorn's configuration is valid.

The settings are read at start-up, so each case runs manage.py in a subprocess with the
environment a deployment would set."""

import json
import os
import re
import runpy
import secrets
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

HOST = "myoevidence.example.org"


def production_env(**extra) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url,
    }
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment does not.
    for name in (
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SECURE_COOKIES",
        "DJANGO_LOG_FORMAT",
        "DJANGO_SECURE_HSTS_SECONDS",
        "DJANGO_SECURE_PROXY_SSL_HEADER",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        env.pop(name, None)
    env.update(extra)
    return env


_database_url = ""


@pytest.fixture(scope="module", autouse=True)
def migrated_database(django_db_setup, django_db_blocker, tmp_path_factory):
    """A migrated database for the subprocesses: the API schema check reads the therapies.
    On PostgreSQL the test database itself; SQLite's is in memory, so a migrated file."""
    global _database_url
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "postgresql":
        _database_url = (
            f"postgres://{params['USER']}:{params['PASSWORD']}@{params['HOST']}:"
            f"{params['PORT'] or 5432}/{params['NAME']}"
        )
    else:
        _database_url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'deploy.sqlite3'}"
        result = manage("migrate", "--noinput", "-v0", timeout=300)
        assert result.returncode == 0, result.stderr
    yield
    _database_url = ""


def manage(*args, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env or production_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY", "X_FRAME_OPTIONS",
    "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY", "ALLOWED_HOSTS")}
    | {"log_format": s.LOGGING["handlers"]["console"]["formatter"],
       "static_storage": s.STORAGES["staticfiles"]["BACKEND"],
       "conn_health_checks": s.DATABASES["default"]["CONN_HEALTH_CHECKS"],
       "conn_max_age": s.DATABASES["default"]["CONN_MAX_AGE"],
       "connect_timeout": s.DATABASES["default"].get("OPTIONS", {}).get("connect_timeout")},
    default=str))
"""


def production_settings(**extra) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=settings.BASE_DIR,
        env=production_env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_deployment_checks_pass_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_deployment_checks_have_teeth():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=production_env(DJANGO_SECRET_KEY="short", DJANGO_SECURE_SSL_REDIRECT="false"),
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr and "security.W008" in result.stderr


def unset(*names: str, **extra) -> dict[str, str]:
    env = production_env(**extra)
    for name in names:
        env.pop(name, None)
    return env


@pytest.mark.parametrize(
    "variable, what",
    [
        ("DJANGO_SECRET_KEY", "a long random secret key"),
        ("DJANGO_ALLOWED_HOSTS", "the site's host names"),
    ],
)
@pytest.mark.parametrize("debug", ["false", None])  # said, or left to the default
def test_production_refuses_to_start_without_a_required_variable(variable, what, debug):
    env = unset(variable, *(["DJANGO_DEBUG"] if debug is None else []))
    result = manage("check", env=env)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"Refusing to start: {variable} is not set: production mode (the default, DJANGO_DEBUG "
        f"unset or false) needs {what}{result.stderr.strip().split(what, 1)[1]}"
    )
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "set DJANGO_DEBUG=true instead." in result.stderr


def test_an_empty_variable_counts_as_unset():
    result = manage("check", env=production_env(DJANGO_SECRET_KEY="", DJANGO_ALLOWED_HOSTS=""))
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked_for():
    assert production_settings(DJANGO_DEBUG="")["DEBUG"] is False
    values = production_settings()  # DJANGO_DEBUG=false
    assert values["DEBUG"] is False
    env_without_debug = unset("DJANGO_DEBUG")
    result = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=settings.BASE_DIR,
        env=env_without_debug,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["DEBUG"] is False
    assert production_settings(DJANGO_DEBUG="true")["DEBUG"] is True


def test_the_development_server_script_asks_for_debug_explicitly():
    script = (settings.BASE_DIR / "scripts" / "serve.sh").read_text()
    assert "export DJANGO_DEBUG=true" in script
    assert script.index("export DJANGO_DEBUG=true") < script.index("manage.py")


def test_production_settings_are_hardened():
    values = production_settings()
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and values["SECURE_HSTS_PRELOAD"]
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] and values["CSRF_COOKIE_HTTPONLY"]
    assert values["X_FRAME_OPTIONS"] == "DENY" and values["SECURE_CONTENT_TYPE_NOSNIFF"]
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["ALLOWED_HOSTS"] == [HOST]
    assert values["log_format"] == "json"
    assert values["static_storage"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["conn_health_checks"] is True
    # Persistent: no reader's request pays for closing an old connection (config/settings.py).
    assert values["conn_max_age"] is None
    if _database_url.startswith("postgres"):
        assert values["connect_timeout"] == 5


def test_database_conn_max_age_takes_seconds_or_none():
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import conn_max_age

    assert conn_max_age("") is None and conn_max_age(" None ") is None
    assert conn_max_age("0") == 0 and conn_max_age("600") == 600
    assert production_settings(DATABASE_CONN_MAX_AGE="30")["conn_max_age"] == 30
    with pytest.raises(ImproperlyConfigured, match="'1m' is not a number of seconds"):
        conn_max_age("1m")


def test_a_plain_http_benchmark_can_turn_the_redirect_and_secure_cookies_off():
    values = production_settings(
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_COOKIES="false",
        DJANGO_LOG_FORMAT="plain",
        DJANGO_SECURE_PROXY_SSL_HEADER="",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["log_format"] == "plain"


# -- static files -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    root = tmp_path_factory.mktemp("static")
    result = manage(
        "collectstatic",
        "--noinput",
        "-v0",
        env=production_env(DJANGO_STATIC_ROOT=str(root)),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return root


def test_collectstatic_writes_hashed_and_compressed_files(collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", hashed)
    assert (collected / hashed).is_file() and (collected / f"{hashed}.gz").is_file()
    assert "admin/css/base.css" in manifest
    assert any(path.startswith("drf_spectacular_sidecar/swagger-ui-dist/") for path in manifest)


def test_pages_render_with_debug_off_from_the_collected_files(collected):
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(DEBUG=False, STATIC_ROOT=collected, STORAGES=storages):
        client = Client(raise_request_exception=False)  # a new one: whitenoise reads the root
        home = client.get("/")
        assert home.status_code == 200
        css = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', home.content.decode())
        assert css, "the page links the hashed stylesheet"
        sheet = client.get(css.group(1), HTTP_ACCEPT_ENCODING="gzip")
        assert sheet.status_code == 200
        assert sheet["Content-Encoding"] == "gzip"
        assert "immutable" in sheet["Cache-Control"]
        for url, status in [
            ("/studies/", 200),
            ("/therapies/rituximab/", 200),
            ("/admin/login/", 200),
            ("/api/docs/", 200),
            ("/api/redoc/", 200),
            ("/no-such-page/", 404),
        ]:
            assert client.get(url).status_code == status, url
        assert "/static/admin/css/base." in client.get("/admin/login/").content.decode()


# -- gunicorn -------------------------------------------------------------------------------------


def gunicorn_config(**env):
    from gunicorn.config import Config

    names = ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT")
    saved = {name: os.environ.pop(name, None) for name in names}
    os.environ.update(env)
    try:
        values = runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))
    finally:
        for name in names:
            os.environ.pop(name, None)
            if saved[name] is not None:
                os.environ[name] = saved[name]
    config = Config()
    for name, value in values.items():
        if name in config.settings:
            config.set(name, value)  # gunicorn validates each value
    return config


def test_gunicorn_settings_come_from_the_environment():
    default = gunicorn_config()
    assert default.bind == ["127.0.0.1:8000"]
    assert default.workers == os.cpu_count() * 2 + 1
    assert default.worker_class_str == "gthread" and default.threads == 4
    assert default.graceful_timeout == 30 and default.timeout == 60
    custom = gunicorn_config(
        GUNICORN_BIND="0.0.0.0:9000",
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="1",
        GUNICORN_TIMEOUT="20",
    )
    assert custom.bind == ["0.0.0.0:9000"] and custom.workers == 3
    assert custom.worker_class_str == "sync" and custom.timeout == 20


def test_a_gunicorn_worker_loads_the_urlconf_before_its_first_request(monkeypatch):
    import gc

    from django import urls

    config = gunicorn_config()
    resolver = urls.get_resolver()
    resolver.__dict__.pop("url_patterns", None)  # as in a worker that has served nothing
    # Then it freezes what it loaded, once the URLconf is in (not this test process's objects).
    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append("url_patterns" in resolver.__dict__))
    config.post_worker_init(worker=None)  # the hook gunicorn calls, validated as a setting
    assert "url_patterns" in resolver.__dict__
    assert resolver.resolve("/api/v1/studies/").url_name
    assert frozen == [True]


def test_gunicorn_writes_its_access_log_as_json(monkeypatch):
    from core.logging import GunicornLogger

    monkeypatch.setenv("MYOEVIDENCE_PROXY_COUNT", "1")  # one nginx in front

    config = gunicorn_config()
    logger = GunicornLogger(config)
    stream = StringIO()
    for handler in logger.access_log.handlers:
        handler.stream = stream

    class Response:
        status = "503 Service Unavailable"
        status_code = 503
        sent = 42
        headers = [("Content-Type", "text/html"), ("X-Request-ID", "abc123")]

    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/studies/",
        "QUERY_STRING": 'q="x"',
        "HTTP_USER_AGENT": 'curl "quoted"',
    }
    logger.access(Response(), None, environ, timedelta(milliseconds=12.5))
    entry = json.loads(stream.getvalue().strip())
    assert entry["status"] == 503 and entry["request_id"] == "abc123"
    assert entry["path"] == "/studies/" and entry["query"] == 'q="x"'
    assert entry["duration_ms"] == 12.5 and entry["user_agent"] == 'curl "quoted"'
    # The same reading of X-Forwarded-For as the app's (core.security.client_ip).
    assert entry["client_ip"] == "203.0.113.7" and entry["remote_addr"] == "127.0.0.1"
