"""Clinician pages: content, filters, exports and error handling."""

import csv
import io
import re

import pytest
from django.db.models import Q
from django.urls import reverse

from core.choices import ReviewStatus
from evidence.models import DiseaseSubtype, Study
from tests.helpers import body
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


def shown_count(html: str) -> int:
    match = re.search(r"<strong>(\d+)</strong> stud", html)
    return int(match.group(1))


def test_home_has_matrix_status_and_entry_points(client):
    html = body(client.get("/"))
    assert html.count("<h1>") == 1
    # Every cell links to its summary of findings (issue 13).
    assert 'href="/therapies/rituximab/dermatomyositis/"' in html
    assert "Data version" in html and "last updated" in html
    assert "Evidence up to 2015; trials published later are not included." in html
    for heading in ("By drug", "By disease subtype", "By study type"):
        assert heading in html
    # The rituximab x DM cell counts the RIM trial once (refs 1 and 19), with its 76 DM
    # patients, plus the two DM pilots (7 and 8): 3 trials, 91 patients, never 410.
    cell = re.search(r'href="/therapies/rituximab/dermatomyositis/">(.*?)</a>', html, re.S)
    text = re.sub(r"<[^>]+>", " ", cell.group(1))
    assert "3 trials" in text and "91 pts" in text and "Low" in text


def test_every_link_on_home_resolves(client):
    html = body(client.get("/"))
    links = set(re.findall(r'href="(/[^"#]*)"', html))
    assert len(links) > 40
    for link in sorted(links):
        if link.startswith("/api/") or link.startswith("/static/"):
            continue  # the API and static files have their own tests
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link


def test_therapy_list_groups_by_class_and_says_when_no_study(client):
    html = body(client.get(reverse("therapies:therapy_list")))
    assert "Anti-CD20 (B-cell depletion)" in html
    fingolimod = html[html.index("Fingolimod") :][:600]
    assert "no study in this corpus" in fingolimod


def test_therapy_detail_shows_statements_chart_studies_and_references(client):
    html = body(client.get("/therapies/rituximab/"))
    n = Study.objects.published().filter(therapies__slug="rituximab").count()
    assert f"Studies of Rituximab ({n})" in html
    assert 'role="img"' in html and "<svg" in html and "<desc" in html
    assert "What the review says" in html
    assert "Rituxan" in html and "MabThera" in html
    assert "/references/1/" in html


def test_therapy_detail_filters_its_studies(client):
    html = body(client.get("/therapies/rituximab/?subtype=pm"))
    n = Study.objects.published().filter(therapies__slug="rituximab", subtypes__code="pm").count()
    assert f"Studies of Rituximab ({n})" in html
    bad = client.get("/therapies/rituximab/?design=nonsense")
    assert bad.status_code == 200 and "Select a valid choice" in body(bad)


def test_therapy_without_study_says_so(client):
    assert "No study in this corpus tested Fingolimod" in body(client.get("/therapies/fingolimod/"))


def test_subtype_detail_ranks_by_certainty_of_benefit_saying_why(client):
    html = body(client.get("/subtypes/polymyositis/"))
    rows = re.findall(
        r'<tr><th scope="row"><a href="/therapies/([^/]+)/polymyositis/">.*?'
        r'certainty-(\w+)".*?direction-(\w+)"',
        html,
        re.S,
    )
    assert rows
    rank = {"high": 4, "moderate": 3, "low": 2, "very_low": 1, "insufficient": 0}
    of_benefit = [rank[c] if d == "benefit" else 0 for _, c, d in rows]
    benefit_rows = [i for i, (_, _, d) in enumerate(rows) if d == "benefit"]
    # Benefit first, by certainty; then the rest.
    assert of_benefit[: len(benefit_rows)] == sorted(of_benefit[: len(benefit_rows)], reverse=True)
    assert benefit_rows == list(range(len(benefit_rows)))
    # Glucocorticoids were background in the azathioprine trial: not ranked for PM.
    assert "glucocorticoids" not in [slug for slug, _, _ in rows]
    assert "Imprecision:" in html  # the reasons are shown


def test_design_pages(client):
    html = body(client.get("/designs/"))
    assert "Randomised placebo-phase (delayed-start) trial" in html
    detail = body(client.get("/designs/rct-placebo-phase/"))
    assert "RIM trial" in detail
    assert client.get("/designs/no-such-design/").status_code == 404


@pytest.mark.parametrize(
    "query,condition",
    [
        ("therapy=rituximab", Q(therapies__slug="rituximab")),
        ("subtype=dm", Q(subtypes__code="dm")),
        ("subtype=dermatomyositis", Q(subtypes__code="dm")),
        ("design=case_report", Q(design="case_report")),
        ("result=harm", Q(result="harm")),
        ("level=2", Q(level=2)),
        ("year_min=2010&year_max=2012", Q(reference__year__gte=2010, reference__year__lte=2012)),
        ("refractory=true", Q(refractory=True)),
        ("age_group=juvenile", Q(age_group="juvenile")),
        ("drug_class=tnf-inhibitor", Q(therapies__drug_class__slug="tnf-inhibitor")),
        (
            "therapy=rituximab&subtype=dm&design=rct_placebo_phase",
            Q(therapies__slug="rituximab") & Q(subtypes__code="dm") & Q(design="rct_placebo_phase"),
        ),
    ],
)
def test_study_list_filters(client, query, condition):
    expected = Study.objects.published().filter(condition).distinct().count()
    assert expected > 0, "the corpus should exercise this filter"
    assert shown_count(body(client.get(f"/studies/?{query}"))) == expected


@pytest.mark.parametrize(
    "query",
    [
        "level=9",
        "year_min=abc",
        "therapy=nope",
        "subtype=zzz",
        "ordering=evil",
        "design=" + "x" * 5000,
    ],
)
def test_bad_filters_show_form_errors_not_server_errors(client, query):
    response = client.get(f"/studies/?{query}")
    assert response.status_code == 200
    assert 'role="alert"' in body(response)


def test_csv_export_matches_the_page(client):
    query = "therapy=rituximab&result=benefit"
    page = shown_count(body(client.get(f"/studies/?{query}")))
    response = client.get(f"/studies/export.csv?{query}")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert len(rows) == page
    assert all("rituximab" in row["therapies"] and row["result"] == "benefit" for row in rows)
    assert client.get("/studies/export.csv?level=9").status_code == 400


def test_study_detail_shows_every_fact(client):
    study = Study.objects.get(key="ref01-rim-trial")
    html = body(client.get(study.get_absolute_url()))
    assert "161/195" in html  # responders/n from the outcomes table
    assert "https://pubmed.ncbi.nlm.nih.gov/23124935/" in html
    assert "https://doi.org/10.1002/art.37754" in html
    assert "Suggested by the design" in html
    # Readers see canonical links; a copy of a record on another site is kept for curators.
    assert "medluna.com/article/23124935" not in html
    assert "https://clinicaltrials.gov/study/NCT00106184" in html
    assert "Placebo-phase" in html or "placebo-phase" in html
    assert "rituximab early" in html and "750 mg/m2" in html  # the arms
    assert "RIM trial (Rituximab in Myositis)" in html


def test_staff_see_the_raw_provenance_urls(admin_client):
    study = Study.objects.get(key="ref01-rim-trial")
    html = body(admin_client.get(study.get_absolute_url()))
    assert "medluna.com/article/23124935" in html and "shown to curators only" in html


def test_unreported_numbers_say_not_reported(client):
    study = Study.objects.filter(sample_size=None).first()
    assert "not reported" in body(client.get(study.get_absolute_url()))


def test_drafts_are_not_public(client, admin_client):
    study = Study.objects.get(key="ref01-rim-trial")
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    assert client.get(study.get_absolute_url()).status_code == 404
    assert "RIM trial (Rituximab in Myositis)" not in body(client.get("/studies/"))
    assert admin_client.get(study.get_absolute_url()).status_code == 200
    Therapy.objects.filter(slug="abatacept").update(status=ReviewStatus.DRAFT)
    assert client.get("/therapies/abatacept/").status_code == 404


def test_markup_in_content_is_escaped(client):
    Study.objects.filter(key="ref01-rim-trial").update(summary="<script>alert(1)</script>")
    html = body(client.get(Study.objects.get(key="ref01-rim-trial").get_absolute_url()))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_finds_brand_names_and_highlights(client):
    html = body(client.get("/search/?q=Rituxan"))
    assert "/therapies/rituximab/" in html and "<mark>Rituxan</mark>" in html
    html = body(client.get("/search/?q=anti-SRP"))
    assert "/subtypes/anti-srp-myopathy/" in html
    hostile = body(client.get("/search/?q=%3Cscript%3Ealert(1)%3C/script%3E"))
    assert "<script>alert(1)" not in hostile
    assert "0 results" in body(client.get("/search/?q=zzzzqqqq"))
    assert client.get("/search/?q=" + "a" * 10000).status_code == 200


def test_about_and_error_pages(client):
    about = body(client.get("/about/"))
    assert "not medical advice" in about and "Oxford CEBM 2011" in about
    missing = client.get("/no/such/page/")
    assert missing.status_code == 404
    assert "Page not found" in body(missing) and 'href="/therapies/"' in body(missing)
    assert client.get("/healthz").content == b"ok\n"


def test_subtype_list_counts(client):
    html = body(client.get("/subtypes/"))
    dm = DiseaseSubtype.objects.get(code="dm")
    n = Study.objects.published().filter(subtypes=dm).count()
    row = html[html.index("/subtypes/dermatomyositis/") :][:400]
    assert f'<td class="num">{n}</td>' in row


def test_therapy_page_pages_its_studies_and_charts_all_of_them(client):
    from tests.factories import make_studies

    make_studies(1500)  # spread over 25 therapies: rituximab gets more than a page
    total = Study.objects.published().filter(therapies__slug="rituximab").count()
    assert total > 50
    html = body(client.get("/therapies/rituximab/"))
    assert f"Studies of Rituximab ({total})" in html
    assert html.count('<td><a href="/studies/') == 50  # one page of the table
    assert f'<desc id="chart-desc">{total} studies from' in html  # the chart sees them all
    second = body(client.get("/therapies/rituximab/?page=2"))
    assert 'rel="prev"' in second


@pytest.fixture
def verified_study():
    """A published study whose provenance was verified by the staff member "mallory"."""
    from datetime import UTC, datetime

    from evidence.models import Provenance

    study = Study.objects.published().filter(provenance__isnull=False).order_by("pk").first()
    Provenance.objects.filter(study=study).update(
        verified=True, verified_by="mallory", verified_at=datetime(2026, 11, 30, 9, tzinfo=UTC)
    )
    return study


@pytest.mark.parametrize("role, shows_name", [(None, False), ("curator", True), ("editor", True)])
def test_verified_by_names_staff_only_to_staff(request, client, verified_study, role, shows_name):
    """Issue 12: the public sees "verified by a second curator on <date>", never a staff
    login name; curators and editors see who it was."""
    if role:
        request.getfixturevalue(role)  # logs ``client`` in
    html = body(client.get(verified_study.get_absolute_url()))
    assert "on 2026-11-30" in html
    assert ("by mallory" in html) is shows_name
    assert ("by a second curator" in html) is not shows_name


@pytest.mark.parametrize("staff_user", [False, True])
def test_the_api_names_the_verifier_to_staff_only(verified_study, staff_user):
    from tests.factories import client_for, staff

    client = client_for(staff("curator2", "Curators") if staff_user else None)
    data = client.get(f"/api/v1/studies/{verified_study.pk}/").json()
    verifiers = {p["verified_by"] for p in data["provenance"]}
    assert verifiers == ({"mallory"} if staff_user else {"a second curator"})
    assert "mallory" not in str(data) or staff_user
