"""Releases go into the corpus backup and are restored byte for byte."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from releases.models import Release
from releases.services import make_release
from tests.evidence.test_backup_restore import RESTORE, empty_database_url, tree  # noqa: F401
from tests.releases.shipped import NEXT, SHIPPED

pytestmark = pytest.mark.django_db


def test_backup_holds_releases_and_restores_them_byte_for_byte(tmp_path, empty_database_url):  # noqa: F811
    release = make_release(version=NEXT, notes="First.")
    first, second = tmp_path / "first", tmp_path / "second"
    call_command("export_corpus", str(first), verbosity=0)
    meta = json.loads((first / "releases" / NEXT / "release.json").read_text())
    assert {a["name"]: a["sha256"] for a in meta["artefacts"]} == dict(
        release.artefacts.values_list("name", "sha256")
    )
    for artefact in release.artefacts.all():
        path = first / "releases" / NEXT / "files" / artefact.name
        assert path.read_bytes() == artefact.content.encode("utf-8")

    env = {
        **os.environ,
        "DATABASE_URL": empty_database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", RESTORE, str(first), str(second)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert tree(second) == tree(first)
    assert f"releases/{NEXT}/files/studies.csv" in tree(second)


def test_reloading_over_the_same_release_changes_nothing_and_tampering_is_refused(tmp_path):
    make_release(version=NEXT)
    call_command("export_corpus", str(tmp_path), verbosity=0)
    call_command("load_corpus", str(tmp_path), verbosity=0)
    assert Release.objects.count() == len(SHIPPED) + 1  # the shipped ones and this one
    path = tmp_path / "releases" / NEXT / "files" / "references.bib"
    path.write_text(path.read_text() + "% tampered\n")
    with pytest.raises(CommandError, match="SHA-256 does not match"):
        call_command("load_corpus", str(tmp_path), verbosity=0)
