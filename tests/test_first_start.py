"""A newcomer's first start (scripts/serve.sh): documented HOST/PORT, the URL and the way to an
admin login printed, and no warning the project could avoid from the development settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVE = ROOT / "scripts" / "serve.sh"


def development_env(tmp_path, **extra) -> dict[str, str]:
    """What scripts/serve.sh sets: debug on, the default SQLite database (a fresh file here)."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'first.sqlite3'}",
    }
    for name in ("DJANGO_LOG_LEVEL", "DJANGO_LOG_FORMAT", "ADMIN_USER", "ADMIN_PASSWORD"):
        env.pop(name, None)
    env.update(extra)
    return env


def test_check_with_the_database_prints_no_warnings_on_sqlite(tmp_path):
    # --database runs the model checks that need a connection (models.W040), as migrate and
    # runserver do; before the fix it printed W040 twice and the axes start line.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=development_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "W040" not in output
    assert "WARNING" not in output
    assert "AXES: BEGIN" not in output
    assert re.fullmatch(r"System check identified no issues \(\d+ silenced\)\.\n", output), output


def test_serve_script_documents_host_and_port():
    header = SERVE.read_text().split("set -euo pipefail")[0]
    assert re.search(r"^#\s+HOST\s+address to listen on \(default 127\.0\.0\.1", header, re.M)
    assert re.search(r"^#\s+PORT\s+port to listen on \(default 8000\)", header, re.M)
    assert "ADMIN_USER" in header and "ADMIN_PASSWORD" in header


def _dry_run(tmp_path, **extra):
    result = subprocess.run(
        ["bash", str(SERVE)],
        env=development_env(tmp_path, SERVE_DRY_RUN="1", **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_serve_prints_the_url_and_how_to_get_an_admin_login(tmp_path):
    out = _dry_run(tmp_path, HOST="0.0.0.0", PORT="8123")
    assert "served at http://localhost:8123/ (admin: http://localhost:8123/admin/)" in out
    assert "Create an admin login: .venv/bin/python manage.py createsuperuser" in out
    # The server listens where HOST and PORT say.
    assert out.rstrip().endswith("runserver 0.0.0.0:8123")
    # Every step announces itself before it runs.
    assert out.index("==> Applying database migrations") < out.index("manage.py migrate")


def test_serve_defaults_and_admin_from_the_environment(tmp_path):
    out = _dry_run(tmp_path, ADMIN_USER="curator", ADMIN_PASSWORD="not shown anywhere")
    assert "served at http://127.0.0.1:8000/" in out
    assert "createsuperuser --noinput --username curator" in out
    assert "Admin login: curator" in out
    # The password goes to createsuperuser through the environment, never printed.
    assert "not shown anywhere" not in out


def test_bootstrap_shows_pip_progress_without_its_notices():
    script = (ROOT / "scripts" / "bootstrap.sh").read_text()
    pip = re.search(r"^PIP=\((.*)\)$", script, re.M).group(1)
    assert "-q" in pip.split() and "--disable-pip-version-check" in pip
    # An option of `pip install` (pip itself refuses it before the subcommand).
    installs = re.findall(r'"\$\{PIP\[@\]\}" install (.*)$', script, re.M)
    assert installs and all(line.startswith("--progress-bar on ") for line in installs)
    # pip itself, the locked dependencies (hash-checked), then the project without dependencies.
    assert script.count('"${PIP[@]}" install') == 3
    assert "--require-hashes -r requirements.lock" in script
    assert "--no-deps -e ." in script
    assert "==> Installing MyoEvidence" in script
    # A changed lock or pyproject.toml re-installs.
    assert re.search(r"^stamp=.*requirements\.lock pyproject\.toml", script, re.M)
