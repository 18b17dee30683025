"""Every package the code imports is declared in pyproject.toml, and every declared package is
pinned in requirements.lock (what scripts/bootstrap.sh installs). ruff, the migrations check and
mypy run in scripts/test.sh before the suite."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from django.conf import settings

ROOT = settings.BASE_DIR
# Our own top-level packages and modules (not distributions).
LOCAL = {"config", "core", "references", "therapies", "evidence", "releases", "tests", "bench"}
LOCAL |= {p.stem for p in ROOT.glob("*.py")}


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return {normalise(re.match(r"[A-Za-z0-9_.\-]+", r).group()) for r in requirements}


def imported() -> dict[str, str]:
    """Top-level name of each third-party import -> one file importing it."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "node_modules", "build"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    distributions = packages_distributions()
    undeclared = {}
    for top, where in imported().items():
        # An import name may come from several distributions (a namespace such as ``fhir``):
        # one of them declared is enough.
        names = {normalise(d) for d in distributions.get(top, [top])}
        if not names & declared():
            undeclared[top] = (where, sorted(names))
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_package_is_in_the_lock():
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {normalise(name) for name in re.findall(r"^([A-Za-z0-9_.\-]+)==", lock, re.M)}
    missing = declared() - pinned
    assert not missing, f"declared but not in requirements.lock (run scripts/lock.sh): {missing}"
