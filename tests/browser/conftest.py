"""A live server over the session's corpus, and a headless Chromium driven by Playwright.

pytest-django's own live_server fixture forces transactional tests, which empty the database
afterwards and would take the shared corpus away from every later test; this fixture serves
the same test database from a thread instead, read-only.
"""

import os
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.db import connections
from django.test.testcases import LiveServerThread

# Playwright's sync API runs an event loop in this thread; Django then refuses ORM calls here
# although nothing async touches them. The documented escape hatch, for these tests only.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def site_url(django_db_setup, django_db_blocker):
    django_db_blocker.unblock()
    connection = connections["default"]
    overrides = {}
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        # An in-memory database exists only on this connection: share it with the server.
        overrides["default"] = connection
        connection.inc_thread_sharing()
    # Serves static files through the finders, as StaticLiveServerTestCase does.
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=overrides)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()
    if overrides:
        connection.dec_thread_sharing()
    django_db_blocker.restore()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required: apt-get install chromium (.ci/run does it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    # bypass_csp lets the tests inject axe-core; the app itself still runs under its CSP.
    context = browser.new_context(accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe_source():
    if not AXE.exists():
        pytest.fail("axe-core is required: npm install (package.json; .ci/run does it).")
    return AXE.read_text(encoding="utf-8")


def outside_the_test_transaction(func):
    """Run ``func()`` where the live server sees its writes at once, and return its result.

    On SQLite's in-memory test database the server shares this thread's connection, hence the
    test's transaction: run it here (it is rolled back with the test). On PostgreSQL the server
    has a connection of its own and sees only committed rows: run it on a fresh thread, whose
    own connection commits at once, and close that connection after. (pytest-django's
    live_server gets there with transactional tests, which empty every table afterwards and
    would take the shared corpus from every later test.)
    """
    if connections["default"].vendor == "sqlite":
        return func()
    outcome = {}

    def work():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


ADMIN_USERNAME = "browser-admin"
ADMIN_PASSWORD = "Browser-admin-pw-2026!"


@pytest.fixture
def admin_login(db):
    """A superuser the live server can log in, removed again after the test.

    Earlier failed logins from 127.0.0.1 are forgotten first (the lockout counts per address),
    also outside the test's transaction: on PostgreSQL the server's login would otherwise wait
    on the rows the test deleted and not yet committed.
    """
    from axes.utils import reset
    from django.contrib.auth import get_user_model

    def create():
        reset()
        user, _ = get_user_model().objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={"email": "browser-admin@example.org", "is_staff": True, "is_superuser": True},
        )
        user.set_password(ADMIN_PASSWORD)
        user.save()
        return user.pk

    pk = outside_the_test_transaction(create)
    yield ADMIN_USERNAME, ADMIN_PASSWORD

    def remove():
        reset()
        get_user_model().objects.filter(pk=pk).delete()

    if connections["default"].vendor != "sqlite":
        outside_the_test_transaction(remove)
