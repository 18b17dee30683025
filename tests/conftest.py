"""Shared fixtures: the real curated corpus is loaded once into the test database."""

import pytest
from django.core.management import call_command


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # Every test sees the real corpus; each test's own changes are rolled back.
    with django_db_blocker.unblock():
        call_command("load_corpus", verbosity=0)
