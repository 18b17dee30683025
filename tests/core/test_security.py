"""Security in the running app: headers and Content-Security-Policy on every response, HTTPS
redirect behind a proxy, no inline script or style in our templates, the admin login locked
after repeated failures, request ids and JSON logs, error pages with DEBUG off.

Production settings as a whole (DJANGO_DEBUG off) are checked in tests/core/test_deploy.py.
API rate limits for anonymous clients: tests/core/test_api_infrastructure.py."""

import json
import logging
import re
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.utils import timezone

from core.logging import JSONFormatter, RequestIdFilter
from core.security import client_ip

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/about/",
    "/therapies/",
    "/therapies/rituximab/",
    "/subtypes/",
    "/designs/",
    "/studies/",
    "/studies/?design=rct_parallel",
    "/references/",
    "/references/1/",
    "/search/?q=rituximab",
    "/no-such-page/",
]


# -- headers --------------------------------------------------------------------------------------


def csp(response) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


@pytest.mark.parametrize("url", [*PAGES, "/api/v1/studies/", "/admin/login/"])
def test_every_response_carries_the_security_headers(client, url):
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    policy = csp(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_the_swagger_docs_load_their_script_as_a_file(client):
    page = client.get("/api/docs/")
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    init = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert csp(page)["script-src"] == ["'self'"]


def test_redoc_may_use_inline_styles_but_never_inline_scripts(client):
    policy = csp(client.get("/api/redoc/"))
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in policy["style-src"]


def test_our_templates_have_no_inline_script_or_style():
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)[^>]*>",
            r"<style\b",
            r"\sstyle=",
            r"\son[a-z]+\s*=",
            r"javascript:",
        ):
            if re.search(pattern, text, re.I):
                offenders.append(f"{path.name}: {pattern}")
    assert offenders == []


@pytest.mark.parametrize("url", PAGES)
def test_rendered_pages_have_no_script_or_inline_style(client, url):
    html = client.get(url).content.decode().lower()
    assert "<script" not in html and " style=" not in html and "<style" not in html


@override_settings(
    SECURE_SSL_REDIRECT=True,
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
)
def test_https_is_enforced_behind_the_proxy(client):
    plain = client.get("/studies/?design=rct_parallel")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/studies/?design=rct_parallel"
    secure = client.get("/studies/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Load balancers probe gunicorn directly, over plain HTTP.
    assert client.get("/healthz").status_code == 200


@override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_cookies_are_secure_and_http_only(client, admin_user, no_lockout):
    login = client.get("/admin/login/")
    csrf = login.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    admin_user.set_password("correct horse battery")
    admin_user.save()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": admin_user.username, "password": "correct horse battery"},
    )
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["secure"] and session["httponly"]


# -- admin login lockout -----------------------------------------------------------------------


@pytest.fixture
def rita():
    """A staff user who logs in with a password (the shared fixtures log in without one)."""
    return User.objects.create_user("rita", password="the right one", is_staff=True)


def login(username, password, ip="203.0.113.7", client=None, **extra):
    client = client or Client()
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **extra,
    )


def test_the_admin_login_locks_after_repeated_failures(rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert login("rita", "guess").status_code == 200  # the form again, with an error
    locked = login("rita", "guess")
    assert locked.status_code == 429
    assert "Account locked" in locked.content.decode()
    # Locked even with the right password, from that address, for every username...
    assert login("rita", "the right one").status_code == 429
    User.objects.create_user("sam", password="sams", is_staff=True)
    assert login("sam", "sams").status_code == 429
    # ...but an attacker cannot lock rita out from elsewhere.
    assert login("rita", "the right one", ip="198.51.100.9").status_code == 302


def test_one_address_trying_many_usernames_is_locked_out(rita, settings):
    """One guess per username never reaches a per-username limit; the address's count does."""
    settings.AXES_FAILURE_LIMIT = 3
    statuses = [login(name, "guess").status_code for name in ("ana", "ben", "cyd", "dan")]
    assert statuses == [200, 200, 429, 429]
    assert login("rita", "the right one").status_code == 429
    # Other addresses are not affected.
    assert login("rita", "the right one", ip="198.51.100.9").status_code == 302


def test_the_cool_off_lets_the_user_back_in(rita, settings):
    settings.AXES_FAILURE_LIMIT = 2
    login("rita", "guess")
    assert login("rita", "guess").status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    )
    assert login("rita", "the right one").status_code == 302


def test_a_successful_login_resets_the_count(rita, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login("rita", "guess")
    login("rita", "guess")
    assert login("rita", "the right one").status_code == 302
    login("rita", "guess")
    login("rita", "guess")
    assert login("rita", "the right one").status_code == 302


def test_behind_a_proxy_the_client_is_the_address_it_saw(rita, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.MYOEVIDENCE_PROXY_COUNT = 1
    # Everyone arrives from the proxy (127.0.0.1); the proxy appends the real address.
    first = {"HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.7"}  # the client's own claim first
    login("rita", "guess", ip="127.0.0.1", **first)
    assert login("rita", "guess", ip="127.0.0.1", **first).status_code == 429
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.9"}
    assert login("rita", "the right one", ip="127.0.0.1", **other).status_code == 302


def test_client_ip(rf, settings):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 5.5.5.5")
    settings.MYOEVIDENCE_PROXY_COUNT = 0
    assert client_ip(request) == "127.0.0.1"
    settings.MYOEVIDENCE_PROXY_COUNT = 1
    assert client_ip(request) == "5.5.5.5"
    settings.MYOEVIDENCE_PROXY_COUNT = 2
    assert client_ip(request) == "6.6.6.6"
    # More proxies configured than entries: the leftmost entry, as DRF's NUM_PROXIES does.
    settings.MYOEVIDENCE_PROXY_COUNT = 3
    assert client_ip(request) == "6.6.6.6"


def test_client_ip_ignores_an_entry_that_is_not_an_address(rf, settings):
    settings.MYOEVIDENCE_PROXY_COUNT = 2
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="<script>" + "x" * 500)
    assert client_ip(request) == "127.0.0.1"
    ipv6 = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="a, 2001:DB8::1, 10.0.0.1")
    assert client_ip(ipv6) == "2001:db8::1"


@pytest.mark.usefixtures("fresh_throttle")
def test_anonymous_api_clients_cannot_dodge_the_rate_limit_with_forwarded_for(settings):
    # Throttling is DRF's, behind the page cache: a cached anonymous response is answered
    # before it (and costs nothing). These requests must reach it, whatever
    # MYOEVIDENCE_TEST_CACHES says.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "1000/minute"},
    }
    client = Client()
    statuses = [
        client.get("/api/v1/designs/", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 429, 429]


@pytest.mark.usefixtures("fresh_throttle")
def test_behind_a_proxy_each_client_has_its_own_api_rate_limit(settings):
    """Two clients behind one nginx (REMOTE_ADDR is the proxy's): each has its own budget,
    keyed on the address the proxy appended, whatever the client wrote before it. The proxy
    count is changed here only (MYOEVIDENCE_PROXY_COUNT): the throttles follow it."""
    # Throttling is DRF's, behind the page cache: a cached anonymous response is answered
    # before it (and costs nothing). These requests must reach it, whatever
    # MYOEVIDENCE_TEST_CACHES says.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
    settings.MYOEVIDENCE_PROXY_COUNT = 1
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "user": "1000/minute"},
    }
    client = Client()

    def get(forwarded_for):
        return client.get(
            "/api/v1/designs/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for
        ).status_code

    first = [get(f"10.9.9.{i}, 203.0.113.7") for i in range(3)]  # forged entries vary
    second = [get("198.51.100.9") for _ in range(3)]
    assert first == [200, 200, 429]
    assert second == [200, 200, 429]


def test_force_login_is_not_affected(admin_client):
    assert admin_client.get("/admin/").status_code == 200


# -- request ids and JSON logs ---------------------------------------------------------------------


def test_a_sane_request_id_from_the_proxy_is_kept_and_others_replaced(client):
    assert client.get("/about/", HTTP_X_REQUEST_ID="abc-123.4")["X-Request-ID"] == "abc-123.4"
    replaced = client.get("/about/", HTTP_X_REQUEST_ID="<script>" + "x" * 300)
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])


def test_log_lines_are_json_with_the_request_id():
    record = logging.LogRecord("core.test", logging.ERROR, __file__, 1, "Broke %s", ("it",), None)
    record.request_id = "req-1"
    record.status_code = 503
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JSONFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "core.test"
    assert entry["message"] == "Broke it" and entry["request_id"] == "req-1"
    assert entry["status_code"] == 503
    assert "ValueError: boom" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_log_lines_of_a_request_name_the_real_client(rf, settings):
    settings.MYOEVIDENCE_PROXY_COUNT = 1
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found", (), None
    )
    record.request = rf.get(
        "/x/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7"
    )
    entry = json.loads(JSONFormatter().format(record))
    assert entry["client_ip"] == "203.0.113.7" and entry["path"] == "/x/"


def test_records_logged_during_a_request_carry_its_id(client):
    seen = []

    class Capture(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Capture()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.get("/no-such-page/", HTTP_X_REQUEST_ID="trace-42")
    finally:
        logger.removeHandler(handler)
    assert seen and all(r.request_id == "trace-42" for r in seen)


# -- error pages with DEBUG off -----------------------------------------------------------------


def test_the_404_page_is_ours(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "There is no page at" in response.content.decode()


def test_the_500_page_is_ours_and_says_nothing_about_the_code():
    client = Client(raise_request_exception=False)
    with mock.patch("evidence.views.home.AboutView.get", side_effect=RuntimeError("secret")):
        response = client.get("/about/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "secret" not in page and "Traceback" not in page
