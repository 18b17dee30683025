"""A live server over the session's corpus, and a headless Chromium driven by Playwright.

pytest-django's own live_server fixture forces transactional tests, which empty the database
afterwards and would take the shared corpus away from every later test; this fixture serves
the same test database from a thread instead, read-only.
"""

import os
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
