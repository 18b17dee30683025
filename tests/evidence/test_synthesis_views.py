"""The synthesis on the pages and in the API: summary of findings, matrix fields, trials,
study arms, the cut-off and the schema (issue 13)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from evidence.models import Study
from references.models import Reference
from tests.factories import client_for
from tests.helpers import body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_summary_of_findings_page(client):
    html = body(client.get("/therapies/rituximab/dermatomyositis/"), status=200)
    plain = text(html)
    assert "Rituximab in Dermatomyositis: summary of findings" in plain
    assert "Evidence up to 2015; trials published later are not included." in plain
    assert "Studies 4 (3 trials" in plain and "Patients 91" in plain
    assert "Imprecision: a single trial, 76 patients" in plain  # a reason, as a footnote too
    assert 'id="fn-imacs_doi-1"' in html
    # The effect per arm, where recorded (the RIM trial's early and late arms).
    assert "rituximab early:" in plain and "median 20.0 weeks" in plain
    assert "part of RIM trial (Rituximab in Myositis)" in plain
    assert 'style="' not in html and "<script" not in html  # CSP: nothing inline


def test_summary_page_shows_safety_signals_apart(client):
    plain = text(body(client.get("/therapies/etanercept/dermatomyositis/"), status=200))
    assert "Direction of effect Benefit" in plain and "Safety signals 2" in plain
    section = plain[plain.index("Safety signals Reports of") :]
    assert "Iannone" in section or "etanercept" in section.lower()


def test_summary_page_of_a_background_therapy_rates_nothing(client):
    plain = text(body(client.get("/therapies/glucocorticoids/polymyositis/"), status=200))
    assert "Insufficient" in plain
    assert "Where Glucocorticoids was background therapy" in plain
    assert "Azathioprine + prednisone controlled trial" in plain


def test_summary_page_lists_its_first_rows_and_counts_every_study(client, monkeypatch):
    # With thousands of studies in one cell the page shows the first rows of each table and
    # links to the study list; the synthesis still counts every study (Studies 4 below).
    monkeypatch.setattr("evidence.views.therapies.SUMMARY_ROWS", 2)
    html = body(client.get("/therapies/rituximab/dermatomyositis/"), status=200)
    plain = text(html)
    assert "Studies 4 (3 trials" in plain and "Patients 91" in plain
    assert "Studies (4)" in plain  # the table's caption: every study, though two are listed
    assert "The first 2 of 4 studies are shown" in plain
    assert 'href="/studies/?therapy=rituximab&amp;subtype=dm"' in html
    listed = html[html.index('id="all-heading"') : html.index("Arms and regimens")]
    assert listed.count('<tr class="') + listed.count("<tr>") - 1 == 2  # header row apart
    # Nothing of this on the full page: no table reaches the limit on the real corpus.
    # (Another URL, so that a page cache does not answer with the page above; the fragment
    # and the summary are kept per row limit.)
    monkeypatch.setattr("evidence.views.therapies.SUMMARY_ROWS", 50)
    page = client.get("/therapies/rituximab/dermatomyositis/?all")
    assert "Studies (4)" in text(body(page)) and "are shown" not in text(body(page))


def test_summary_selector_shown_limits_lists_not_the_synthesis():
    from evidence.models import DiseaseSubtype
    from evidence.selectors import summary_of_findings
    from therapies.models import Therapy

    rituximab = Therapy.objects.get(slug="rituximab")
    dm = DiseaseSubtype.objects.get(code="dm")
    full = summary_of_findings(Study.objects.published(), rituximab, dm)
    page = summary_of_findings(Study.objects.published(), rituximab, dm, shown=1)
    assert page.synthesis == full.synthesis and page.studies_total == full.studies_total == 4
    assert [row.pk for row in page.studies] == [row.pk for row in full.studies][:1]
    assert page.studies_truncated and not full.studies_truncated
    assert [row.pk for row in page.key_studies] == [row.pk for row in full.key_studies]
    for short, whole in zip(page.outcomes, full.outcomes, strict=True):
        assert short.rows_total == whole.rows_total == len(whole.rows)
        assert short.rows == whole.rows[:1]


def test_summary_page_unknown_names_404(client):
    assert client.get("/therapies/rituximab/no-such-subtype/").status_code == 404
    assert client.get("/therapies/no-such-drug/dermatomyositis/").status_code == 404


def test_the_summary_page_prints():
    css = (Path(settings.BASE_DIR) / "static/css/print.css").read_text(encoding="utf-8")
    assert ".sof .print-note { display: block" in css


def test_matrix_legend_explains_certainty_direction_and_safety(client):
    plain = text(body(client.get("/"), status=200))
    for words in (
        "⊕⊕⊕⊕ High",
        "⊕◯◯◯ Very low",
        "Conflicting the best studies disagree",
        "Safety signal reports of the drug inducing or worsening myositis",
    ):
        assert words in plain


def test_about_page_explains_the_method_and_cutoff(client):
    plain = text(body(client.get("/about/"), status=200))
    for words in (
        "How the synthesis works",
        "What counts as tested",
        "Counting patients once",
        "mixed population",
        "Evidence up to 2015",
    ):
        assert words in plain


def test_therapy_page_uses_the_matrix_numbers(client):
    plain = text(body(client.get("/therapies/rituximab/"), status=200))
    assert "Evidence by subtype" in plain
    row = re.search(r"Dermatomyositis (.{0,80})", plain).group(1)
    assert "Low" in row and " 3 91 " in row


def test_etanercept_page_lists_its_safety_signals(client):
    plain = text(body(client.get("/therapies/etanercept/"), status=200))
    assert "Safety signals Reports of Etanercept inducing or worsening myositis" in plain


# --- API -------------------------------------------------------------------------------------


def test_matrix_api_has_the_synthesis_fields():
    data = client_for().get("/api/v1/matrix/").json()
    assert data["evidence_cutoff"] == "2015" and data["source_review_year"] == 2017
    cell = next(c for c in data["cells"] if (c["therapy"], c["subtype"]) == ("rituximab", "dm"))
    assert cell["patients"] == 91 and cell["trials"] == 3 and cell["studies"] == 4
    assert cell["certainty"] == "low" and cell["direction"] == "uncertain"
    assert [r["code"] for r in cell["certainty_reasons"]][0] == "start_randomised"
    assert cell["patients_mixed_population"] is False and cell["safety_signals"] == 0
    assert cell["key_studies"] == [Study.objects.get(key="ref01-rim-trial").pk]
    assert "dominant_result" in cell  # v1 compatible: nothing renamed
    unknown = next(c for c in data["cells"] if c["therapy"] == "alemtuzumab")
    assert unknown["patients"] is None and unknown["certainty"] == "insufficient"


def test_trials_api():
    client = client_for()
    rim = client.get("/api/v1/trials/rim/").json()
    assert rim["registry_ids"] == ["NCT00106184"]
    assert rim["registry_urls"] == ["https://clinicaltrials.gov/study/NCT00106184"]
    assert rim["studies"] == sorted(
        Study.objects.filter(
            key__in=["ref01-rim-trial", "ref19-rim-predictors-of-response"]
        ).values_list("pk", flat=True)
    )
    assert client.get("/api/v1/trials/").json()["count"] >= 1


def test_study_api_has_trial_and_arms():
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    data = client_for().get(f"/api/v1/studies/{study.pk}/").json()
    assert data["trial"] is None
    arms = {(a["therapy"], a["role"]) for a in data["arms"]}
    assert arms == {
        ("azathioprine", "tested"),
        (None, "comparator"),
        ("glucocorticoids", "background"),
    }
    assert {"dose", "route", "schedule", "n"} <= set(data["arms"][0])
    assert data["subtype_counts"] == {"pm": 16}


def test_summary_api():
    client = client_for()
    data = client.get("/api/v1/summary/rituximab/dm/").json()
    assert data == client.get("/api/v1/summary/rituximab/dermatomyositis/").json()
    assert data["evidence_cutoff"] == "2015" and data["patients"] == 91
    imacs = next(o for o in data["outcomes"] if o["measure"] == "imacs_doi")
    assert imacs["certainty"] in {"high", "moderate", "low", "very_low", "insufficient"}
    assert imacs["certainty_reasons"]
    arm_results = [r for row in imacs["results"] for r in row["arm_results"]]
    assert {r["arm"] for r in arm_results} >= {"rituximab early", "rituximab late"}
    etanercept = client.get("/api/v1/summary/etanercept/dm/").json()
    assert len(etanercept["safety_studies"]) == etanercept["safety_signals"] == 2
    assert client.get("/api/v1/summary/rituximab/nope/").status_code == 404


def test_api_schema_describes_the_new_codes():
    spec = client_for().get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/summary/{therapy}/{subtype}/" in spec["paths"]
    assert "/api/v1/trials/" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert set(schemas["CertaintyEnum"]["enum"]) == {
        "high",
        "moderate",
        "low",
        "very_low",
        "insufficient",
    }
    assert set(schemas["DirectionEnum"]["enum"]) == {
        "benefit",
        "no_benefit",
        "conflicting",
        "harm",
        "uncertain",
    }
    cell = schemas["MatrixCell"]["properties"]
    assert "`very_low`" in cell["certainty"]["description"]
    assert "`conflicting`" in cell["direction"]["description"]
    assert "Superseded" in cell["dominant_result"]["description"]


def test_study_csv_has_the_synthesis_columns(client):
    import csv
    import io

    from tests.helpers import content

    rows = list(
        csv.DictReader(
            io.StringIO(content(client.get("/studies/export.csv?therapy=azathioprine")).decode())
        )
    )
    aza = next(r for r in rows if r["label"].startswith("Azathioprine"))
    assert aza["tested"] == "azathioprine" and aza["background"] == "glucocorticoids"
    assert "prednisone (all patients) (background, 60 mg per day" in aza["arms"]
    assert aza["subtype_counts"] == "pm 16" and aza["trial"] == ""
    assert aza["has_result_data"] == "yes" and aza["safety_signal"] == "no"


def test_reference_page_links_readers_only_to_scholarly_records(client, admin_client):
    reference = Reference.objects.get(number=12)
    assert any("47.251.13.51" in url for url in reference.identifier_sources)
    public = body(client.get(reference.get_absolute_url()), status=200)
    assert "47.251.13.51" not in public and "kept for curators" in public
    assert "47.251.13.51" in body(admin_client.get(reference.get_absolute_url()), status=200)
