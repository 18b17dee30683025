"""Shared fixtures: the real curated corpus is loaded once into the test database."""

import os
import uuid

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Every test sees the real corpus; each test's own changes are rolled back.
    with django_db_blocker.unblock():
        call_command("load_corpus", verbosity=0)


TEST_CACHES = os.environ.get("MYOEVIDENCE_TEST_CACHES", "off").lower()
if TEST_CACHES not in ("on", "off"):
    raise ValueError(f"MYOEVIDENCE_TEST_CACHES must be 'on' or 'off', not {TEST_CACHES!r}")


def own_key_prefix(settings, label: str) -> None:
    """Give the default cache a key prefix nothing else uses (this test's settings only)."""
    default = settings.CACHES["default"]
    prefix = f"{default.get('KEY_PREFIX', '')}-{label}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {**settings.CACHES, "default": {**default, "KEY_PREFIX": prefix}}


@pytest.fixture(autouse=True)
def cache_mode(settings, tmp_path_factory):
    """The page and data caches, off (the default) or on as in production
    (MYOEVIDENCE_TEST_CACHES=on; CI runs the suite both ways), and the kept exports with them.

    With them on, nothing cached by one test may reach the next: tests roll their changes back
    (and with them the content generation, which then repeats), so this process's stores are
    emptied and the shared cache (Redis, when CACHE_URL names it) gets a key prefix of the
    test's own. Tests that need the caches on or off whatever the setting say so themselves
    (tests/core/test_cache*.py, test_data_cache.py).
    """
    from core.caching import generation, pages, refresh
    from core.caching.data import local_values

    # A test's changes are never committed, so no other connection hears of them: the
    # listening thread is tested on its own (tests/core/test_generation_listener.py).
    settings.MYOEVIDENCE_GENERATION_LISTEN = False
    # A write does not render the site again (tests/core/test_refresh_ahead.py turns it on).
    settings.MYOEVIDENCE_REFRESH_AHEAD_SECONDS = 0

    if TEST_CACHES == "off":
        settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
        settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 0
        settings.MYOEVIDENCE_DOWNLOAD_DIR = ""
    else:
        settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 300
        settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300
        own_key_prefix(settings, "test")
        # Kept exports: a folder of this test's own (made by its first full export, if any).
        settings.MYOEVIDENCE_DOWNLOAD_DIR = str(
            tmp_path_factory.getbasetemp() / f"downloads-{uuid.uuid4().hex[:12]}"
        )
    pages.reset()
    local_values.clear()
    generation.reset()
    refresh.forget_hot_pages()
    yield
    pages.reset()
    local_values.clear()
    generation.reset()


# -- users and clients ----------------------------------------------------------------------------
# One set for every module. ``curator`` and ``editor`` are users logged in on the test ``client``
# (when a test takes both, call ``client.force_login(...)`` to choose); ``curator_api`` and
# ``editor_api`` are token-authenticated API clients of users of their own.


@pytest.fixture
def curator(client):
    """A member of Curators, logged in on ``client``."""
    from core.workflow import CURATORS
    from tests.factories import staff

    user = staff("curator", CURATORS)
    client.force_login(user)
    return user


@pytest.fixture
def editor(client):
    """A member of Editors, logged in on ``client``."""
    from core.workflow import EDITORS
    from tests.factories import staff

    user = staff("editor", EDITORS)
    client.force_login(user)
    return user


@pytest.fixture
def curator_api(db):
    """An API client authenticated by token as a member of Curators."""
    from core.workflow import CURATORS
    from tests.factories import client_for, staff

    return client_for(staff("api-curator", CURATORS))


@pytest.fixture
def editor_api(db):
    """An API client authenticated by token as a member of Editors."""
    from core.workflow import EDITORS
    from tests.factories import client_for, staff

    return client_for(staff("api-editor", EDITORS))


@pytest.fixture
def fresh_throttle(settings):
    """Each test starts with empty rate-limit counters (they live in the default cache).

    A cache of this process (locmem) is emptied. A shared one (Redis: ``shared_cache``) is
    not: emptying it empties the whole Redis database, under the feet of tests running
    meanwhile in the other workers (pytest -n, scripts/test.sh); the test gets a key prefix of
    its own instead, under which no counter exists yet."""
    from django.core.cache import cache

    from core.caching.shared import shared_cache

    shared = shared_cache() is not None
    if shared:
        own_key_prefix(settings, "throttle")
    else:
        cache.clear()
    yield
    if not shared:
        cache.clear()


@pytest.fixture
def no_lockout(db):
    """Forget earlier failed admin logins: the lockout counts per address across usernames,
    and every test client and the live server log in from 127.0.0.1, so failures left by
    tests that commit (live-server and subprocess tests) would lock a later login out."""
    from axes.utils import reset

    reset()
