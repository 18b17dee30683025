"""The hot pages and API lists render byte for byte what they rendered before (issue 16).

Rendering is being made faster (widgets without template round trips, precomputed rows,
a faster JSON renderer); none of that may change a reader's page. Each URL below is fetched
for the real corpus (loaded once per session by tests/conftest.py) and compared with the output
stored in ``tests/data/golden/``, after normalising only what differs from run to run: the
load time stamped on each study (``modified`` in the API) and the home page's "last updated"
date, CSRF tokens, CSP nonces and the
footer's release line (which names a release date once a release exists).

The stored files were generated from the code before the speed-ups, with::

    MYOEVIDENCE_WRITE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_render_identity.py
    MYOEVIDENCE_WRITE_GOLDEN=1 DATABASE_URL=postgres://... .venv/bin/python -m pytest -q \
        tests/test_render_identity.py

The second run writes ``NAME.postgresql.html`` only where PostgreSQL's output differs from
SQLite's (today: the two summary pages, whose tied key studies the databases order apart).

Regenerate them only for an intended change of output, and read the diff before committing.
"""

import os
import re
from pathlib import Path

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "data" / "golden"

# name -> URL. The filter-form variants cover selected boxes, ordering and a rejected value,
# which the widgets render differently.
PAGES = {
    "home": "/",
    "therapy-rituximab": "/therapies/rituximab/",
    "summary-rituximab-dm": "/therapies/rituximab/dermatomyositis/",
    "summary-ivig-pm": "/therapies/ivig/polymyositis/",
    "studies": "/studies/",
    "studies-dm-case-report": "/studies/?subtype=dm&design=case_report",
    "studies-rituximab-dm-year": "/studies/?therapy=rituximab&subtype=dm&ordering=-year",
    "studies-bad-value": "/studies/?design=not-a-design&level=9",
    "references": "/references/",
    "references-abatacept": "/references/?therapy=abatacept",
    "search-rituximab": "/search/?q=rituximab",
    "api-studies": "/api/v1/studies/",
    "api-studies-rituximab-page": "/api/v1/studies/?therapy=rituximab&limit=3&offset=1",
    "api-study": "/api/v1/studies/3/",
    "api-therapies": "/api/v1/therapies/",
    "api-references": "/api/v1/references/",
    # The exports (issue 16 rewrote the studies CSV to read plain values).
    "studies-csv": "/studies/export.csv",
    "studies-csv-filtered": "/studies/export.csv?therapy=rituximab&subtype=dm",
    "api-studies-csv": "/api/v1/studies/?format=csv",
    "references-bibtex": "/references/export/bibtex/",
    "fhir-bundle-all": "/api/fhir/Bundle/all",
    "fhir-bundle-rituximab": "/api/fhir/Bundle/therapy-rituximab",
}

VOLATILE = [
    (re.compile(rb'"modified":"[^"]*"'), b'"modified":"<time>"'),
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb' nonce="[^"]*"'), b' nonce="<nonce>"'),
    (re.compile(rb'<p class="release-line">.*?</p>', re.S), b'<p class="release-line"></p>'),
    # The home page's "last updated" is when the corpus was loaded (today), not a fixed date.
    (re.compile(rb"last updated \d{1,2} [A-Z][a-z]+ \d{4}"), b"last updated <date>"),
]


def normalise(content: bytes) -> bytes:
    for pattern, replacement in VOLATILE:
        content = pattern.sub(replacement, content)
    return content


def golden_paths(name: str, content_type: str) -> tuple[Path, Path]:
    """The shared golden file (SQLite's output) and this database's own, if it differs."""
    ext = next((e for e in ("json", "csv", "bibtex") if e in content_type), "html")
    ext = "bib" if ext == "bibtex" else ext
    return GOLDEN / f"{name}.{ext}", GOLDEN / f"{name}.{connection.vendor}.{ext}"


def write_golden(shared: Path, own: Path, actual: bytes) -> None:
    # SQLite (the default database) writes the shared file; another database writes a file
    # of its own only where its output differs (the summary pages order tied key studies
    # differently on PostgreSQL, a difference older than these tests).
    GOLDEN.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        shared.write_bytes(actual)
    elif shared.exists() and shared.read_bytes() == actual:
        own.unlink(missing_ok=True)
    else:
        own.write_bytes(actual)


@pytest.mark.parametrize("name,url", PAGES.items())
def test_output_is_identical_to_the_stored_golden_output(client, name, url):
    response = client.get(url)
    assert response.status_code == 200, url
    content_type = response["Content-Type"]
    shared, own = golden_paths(name, content_type)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    actual = normalise(content)
    if os.environ.get("MYOEVIDENCE_WRITE_GOLDEN"):
        write_golden(shared, own, actual)
    path = own if own.exists() else shared
    expected = path.read_bytes()
    # Compared as bytes (not parsed) on purpose: a renderer that escapes or spaces differently
    # is a change a cache, an ETag or a reader's diff would see.
    if actual != expected:
        pairs = enumerate(zip(actual, expected, strict=False))
        at = next((i for i, (a, b) in pairs if a != b), min(len(actual), len(expected)))
        pytest.fail(
            f"{url} differs from {path.name} at byte {at}:\n"
            f"expected ...{expected[max(0, at - 200) : at + 200]!r}\n"
            f"actual   ...{actual[max(0, at - 200) : at + 200]!r}"
        )


def test_normalising_keeps_everything_but_the_volatile_parts():
    # A normaliser that blanked too much would make the comparison above vacuous.
    page = b'<p class="release-line">Release 2026-11 of 3 Nov</p><td>7/24 (29%)</td>'
    assert normalise(page) == b'<p class="release-line"></p><td>7/24 (29%)</td>'
    assert normalise(b'{"modified":"2026-12-02T15:24:09Z","n":24}') == (
        b'{"modified":"<time>","n":24}'
    )
