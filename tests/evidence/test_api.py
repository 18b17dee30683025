"""Studies, subtypes, designs, outcomes, statements, the matrix, counts and search in the API."""

import csv
import io

import pytest

from evidence.choices import StudyDesign
from evidence.models import DiseaseSubtype, Outcome, Statement, Study
from evidence.selectors import evidence_matrix
from tests.factories import client_for
from tests.helpers import content

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

STUDIES = "/api/v1/studies/"
RCT = sorted(StudyDesign.randomised())


def test_study_representation_has_the_documented_fields():
    study = Study.objects.published().filter(outcomes__isnull=False).first()
    data = client_for().get(f"{STUDIES}{study.pk}/").json()
    assert {
        "id",
        "reference",
        "therapies",
        "subtypes",
        "design",
        "sample_size",
        "age_group",
        "refractory",
        "result",
        "level",
        "summary",
        "outcomes",
        "provenance",
    } <= set(data)
    assert set(data["reference"]) == {"id", "number", "title", "year", "pmid", "doi"}
    assert data["therapies"] == sorted(t.slug for t in study.therapies.all()) or set(
        data["therapies"]
    ) == {t.slug for t in study.therapies.all()}
    assert set(data["subtypes"]) == {s.code for s in study.subtypes.all()}
    assert len(data["outcomes"]) == study.outcomes.count()


def test_all_rcts_of_rituximab_in_dm():
    params = {"therapy": "rituximab", "subtype": "dm", "design": RCT}
    data = client_for().get(STUDIES, params).json()
    expected = (
        Study.objects.published()
        .filter(therapies__slug="rituximab", subtypes__code="dm", design__in=RCT)
        .distinct()
    )
    assert {r["id"] for r in data["results"]} == set(expected.values_list("pk", flat=True))
    assert data["count"] == expected.count() > 0
    assert all(r["design"] in RCT for r in data["results"])


def test_subtype_filter_takes_the_slug_too():
    client = client_for()
    subtype = DiseaseSubtype.objects.get(code="dm")
    assert (
        client.get(STUDIES, {"subtype": "dm"}).json()["count"]
        == client.get(STUDIES, {"subtype": subtype.slug}).json()["count"]
    )


def test_year_level_and_size_filters_and_ordering():
    client = client_for()
    data = client.get(
        STUDIES,
        {
            "year_min": 2010,
            "year_max": 2020,
            "level": [2, 3],
            "ordering": "-size",
            "page_size": 100,
        },
    ).json()
    assert (
        data["count"]
        == Study.objects.published()
        .filter(reference__year__range=(2010, 2020), level__in=[2, 3])
        .count()
    )
    sizes = [r["sample_size"] for r in data["results"] if r["sample_size"] is not None]
    assert sizes == sorted(sizes, reverse=True)


def test_search_is_the_filtersets_q():
    client = client_for()
    assert client.get(STUDIES, {"search": "RIM"}).json() == client.get(STUDIES, {"q": "RIM"}).json()


@pytest.mark.parametrize(
    "params",
    [
        {"design": "bogus"},
        {"therapy": "not-a-drug"},
        {"level": "9"},
        {"year_min": "abc"},
        {"ordering": "shoe_size"},
        {"page": "0"},
        {"page": "x"},
        {"page_size": "0"},
        {"page_size": "501"},
        {"q": "nul\x00byte"},
    ],
)
def test_bad_parameters_are_400(params):
    response = client_for().get(STUDIES, params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"


def test_page_past_the_last_is_404_and_huge_numbers_are_not_500s():
    client = client_for()
    assert client.get(STUDIES, {"page": 999}).status_code == 404
    assert client.get(STUDIES, {"year_min": 10**30}).status_code == 200
    assert client.get(STUDIES, {"reference": 10**30}).json()["count"] == 0
    assert client.get(f"{STUDIES}{10**30}/").status_code == 404
    assert client.get(f"{STUDIES}abc/").status_code == 404


def test_csv_export_is_the_sites_csv_byte_for_byte():
    client = client_for()
    params = {"therapy": "rituximab", "design": RCT + ["case_series"]}
    api = content(client.get(STUDIES, {**params, "format": "csv"}))
    site = content(client.get("/studies/export.csv", params))
    assert api == site


def test_csv_export_rows_equal_the_list_count():
    client = client_for()
    for params in ({}, {"subtype": "ibm"}, {"result": "benefit", "year_min": 2015}):
        count = client.get(STUDIES, params).json()["count"]
        response = client.get(STUDIES, {**params, "format": "csv"})
        assert response["Content-Disposition"].startswith("attachment")
        rows = list(csv.DictReader(io.StringIO(content(response).decode())))
        assert len(rows) == count


def test_counts_per_facet_honour_the_filters():
    client = client_for()
    data = client.get(f"{STUDIES}counts/", {"therapy": "rituximab"}).json()
    listed = client.get(STUDIES, {"therapy": "rituximab"}).json()["count"]
    assert data["count"] == listed == sum(data["design"].values())
    assert sum(data["result"].values()) == listed
    assert data["therapy"]["rituximab"] == listed


def test_matrix_matches_the_selector():
    client = client_for()
    data = client.get("/api/v1/matrix/", {"design": RCT}).json()
    matrix = evidence_matrix(Study.objects.published().filter(design__in=RCT))
    assert len(data["cells"]) == len(matrix.cells)
    cells = {(c.therapy.slug, c.subtype.code): c for c in matrix.cells.values()}
    for cell in data["cells"]:
        expected = cells[(cell["therapy"], cell["subtype"])]
        assert cell["studies"] == expected.studies
        assert cell["patients"] == expected.patients
        assert cell["best_level"] == expected.best_level
        assert cell["results"] == dict(expected.results)
        assert cell["dominant_result"] == expected.dominant_result
    assert [t["slug"] for t in data["therapies"]] == [t.slug for t in matrix.therapies]


def test_matrix_csv_has_a_row_per_cell():
    client = client_for()
    cells = client.get("/api/v1/matrix/").json()["cells"]
    rows = list(
        csv.DictReader(
            io.StringIO(content(client.get("/api/v1/matrix/", {"format": "csv"})).decode())
        )
    )
    assert len(rows) == len(cells) > 0
    assert rows[0]["therapy"] == cells[0]["therapy"]


def test_subtypes_by_slug_or_code():
    client = client_for()
    subtype = DiseaseSubtype.objects.get(code="jdm")
    assert client.get(f"/api/v1/subtypes/{subtype.slug}/").json()["code"] == "jdm"
    assert client.get("/api/v1/subtypes/jdm/").json()["slug"] == subtype.slug
    assert client.get("/api/v1/subtypes/no such/").status_code == 404
    data = client.get("/api/v1/subtypes/").json()
    assert data["count"] == DiseaseSubtype.objects.count()


def test_designs_list_every_code_with_its_level_and_count():
    client = client_for()
    data = client.get("/api/v1/designs/").json()
    assert [d["code"] for d in data["results"]] == list(StudyDesign.values)
    rct = client.get("/api/v1/designs/rct_parallel/").json()
    assert rct["suggested_level"] == 2 and rct["randomised"] is True
    assert rct["study_count"] == Study.objects.published().filter(design="rct_parallel").count()
    assert client.get("/api/v1/designs/guideline/").json()["suggested_level"] is None
    assert client.get("/api/v1/designs/astrology/").status_code == 404


def test_outcomes_and_statements():
    client = client_for()
    assert (
        client.get("/api/v1/outcomes/").json()["count"]
        == Outcome.objects.filter(study__status="published").count()
    )
    study = Outcome.objects.first().study
    data = client.get("/api/v1/outcomes/", {"study": study.pk}).json()
    assert {o["study"] for o in data["results"]} == {study.pk}
    statements = client.get("/api/v1/statements/", {"therapy": "rituximab"}).json()
    assert (
        statements["count"]
        == Statement.objects.published().filter(therapy__slug="rituximab").count()
    )


def test_search_groups_hits_with_links():
    client = client_for()
    data = client.get("/api/v1/search/", {"q": "Rituxan"}).json()
    assert data["therapies"][0]["id"] == "rituximab"
    follow = client.get(data["therapies"][0]["api_url"])
    assert follow.status_code == 200
    assert client.get("/api/v1/search/", {"search": "rituximab"}).json()["studies"]
    assert client.get("/api/v1/search/").json()["therapies"] == []
    assert client.get("/api/v1/search/", {"q": "x", "limit": 0}).status_code == 400


def test_drafts_are_hidden_from_anonymous_clients():
    study = Study.objects.published().first()
    Study.objects.filter(pk=study.pk).update(status="draft")
    client = client_for()
    assert client.get(f"{STUDIES}{study.pk}/").status_code == 404
    ids = {r["id"] for r in client.get(STUDIES, {"page_size": 500}).json()["results"]}
    assert study.pk not in ids
    csv_ids = {
        row["id"]
        for row in csv.DictReader(
            io.StringIO(content(client.get(STUDIES, {"format": "csv"})).decode())
        )
    }
    assert str(study.pk) not in csv_ids
