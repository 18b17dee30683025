"""What the synthesis tells a clinician, end to end on the real corpus: harms are not rated as
efficacy, a study whose split leaves a subtype out adds no patients to it, the evidence cut-off
is the newest study's year (of the studies shown), a draft changes no public synthesis, and the
page, the API, the matrix and its CSV agree cell by cell. The pure rules behind them are pinned
in tests/evidence/test_synthesis.py."""

import csv
import io
import re

import pytest

from core.choices import ReviewStatus
from evidence.choices import (
    ArmRole,
    Blinding,
    Certainty,
    Direction,
    ResultDirection,
    StudyDesign,
)
from evidence.models import Arm, DiseaseSubtype, Study, StudySubtypeCount
from references.models import Reference
from tests.factories import client_for
from therapies.models import Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def summary_api(therapy, subtype):
    response = client_for().get(f"/api/v1/summary/{therapy}/{subtype}/")
    assert response.status_code == 200
    return response.json()


# --- Harms, patients, the cut-off ------------------------------------------------------------


def test_adverse_events_outcome_gets_no_efficacy_direction():
    """Etanercept in DM: the 'Adverse events' outcome is a safety question; the API gives it
    direction 'benefit' and low certainty, copied from the RCT's efficacy result."""
    data = summary_api("etanercept", "dm")
    ae = next(o for o in data["outcomes"] if o["measure"] == "adverse_events")
    assert ae["direction"] not in (Direction.BENEFIT, Direction.NO_BENEFIT), ae


def test_the_summary_page_says_harms_are_not_rated_as_efficacy(client):
    page = text(client.get("/therapies/etanercept/dermatomyositis/").content.decode())
    harms = page.split("Adverse events", 1)[1]
    assert harms.index("Harms: not rated as efficacy") < harms.index("results per study")


def test_rituximab_antisynthetase_patients_not_inflated_by_another_subtypes_trial():
    """The RIM predictor analysis reports its 195 patients split as DM 72, JDM 48, PM 75; the
    antisynthetase cell adds all 195 (Patients 220). Its antisynthetase patients are among
    those already split, number unknown: the cell has 24 + 1 patients with a known number."""
    data = summary_api("rituximab", "antisynthetase")
    assert data["patients"] == 25, data["patients"]


def test_rituximab_antisynthetase_page_and_matrix_not_220(client):
    page = text(client.get("/therapies/rituximab/antisynthetase-syndrome/").content.decode())
    assert "Patients 220" not in page
    matrix = client_for().get("/api/v1/matrix/").json()
    cell = next(
        c
        for c in matrix["cells"]
        if c["therapy"] == "rituximab" and c["subtype"] == "antisynthetase"
    )
    assert cell["patients"] < 195, cell["patients"]


def _reference(**extra):
    values = dict(
        title="Probe reference",
        bibtex_key="probe2020",
        year=2020,
        journal="J Probe",
        status=ReviewStatus.PUBLISHED,
        first_author="Probe",
    )
    values.update(extra)
    return Reference.objects.create(**values)


def test_cutoff_is_not_moved_by_a_reference_that_reports_no_study(client):
    """The cut-off is 'the newest publication year among the studies'; a classification or
    outcome-measure paper (no treatment study) moves it."""
    _reference(role="classification", year=2020)
    assert summary_api("rituximab", "dm")["evidence_cutoff"] == "2015"
    assert "Evidence up to 2015" in text(
        client.get("/therapies/rituximab/dermatomyositis/").content.decode()
    )


def test_cutoff_is_not_moved_by_the_published_reference_of_a_draft_study(client):
    """A curator publishes a 2021 reference while its study is still a draft: the public
    synthesis does not contain the study, yet the public cut-off says evidence up to 2021."""
    ref = _reference(role="treatment", year=2021, bibtex_key="probe2021")
    Study.objects.create(
        key="probe-draft-2021",
        reference=ref,
        label="Draft 2021 trial",
        design=StudyDesign.RCT_PARALLEL,
        level=2,
        result=ResultDirection.BENEFIT,
        summary="Draft.",
        sample_size=300,
        status=ReviewStatus.DRAFT,
    )
    assert summary_api("rituximab", "dm")["evidence_cutoff"] == "2015"
    assert client_for().get("/api/v1/matrix/").json()["evidence_cutoff"] == "2015"


def test_matrix_cutoff_follows_the_year_filter():
    """/api/v1/matrix/?year_max=2005 holds no study after 2005, yet says evidence up to 2015
    ("trials published later are not included" is then false for 2006-2015)."""
    data = client_for().get("/api/v1/matrix/?year_max=2005").json()
    newest = max(
        Study.objects.published()
        .filter(reference__year__lte=2005)
        .values_list("reference__year", flat=True)
    )
    assert data["evidence_cutoff"] == str(newest), data["evidence_cutoff"]


# --- What already held ----------------------------------------------------------------------


def test_draft_study_does_not_change_public_synthesis():
    before = summary_api("rituximab", "dm")
    ref = Reference.objects.get(number=1)
    rituximab = Therapy.objects.get(slug="rituximab")
    dm = DiseaseSubtype.objects.get(code="dm")
    study = Study.objects.create(
        key="probe-draft",
        reference=ref,
        label="Draft big RCT",
        design=StudyDesign.RCT_PARALLEL,
        blinding=Blinding.DOUBLE,
        level=2,
        result=ResultDirection.BENEFIT,
        summary="Draft.",
        sample_size=900,
        status=ReviewStatus.DRAFT,
        trial=Study.objects.get(pk=1).trial,
    )
    study.therapies.add(rituximab)
    study.subtypes.add(dm)
    Arm.objects.create(study=study, label="rtx", therapy=rituximab, role=ArmRole.TESTED)
    StudySubtypeCount.objects.create(study=study, subtype=dm, n=900)
    after = summary_api("rituximab", "dm")
    for key in ("certainty", "direction", "trials", "patients", "studies", "key_studies"):
        assert after[key] == before[key], key


def test_every_cell_agrees_between_page_api_summary_matrix_and_csv(client):
    api = client_for()
    matrix = api.get("/api/v1/matrix/").json()
    response = api.get("/api/v1/matrix/?format=csv")
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    rows = {(r["therapy"], r["subtype"]): r for r in csv.DictReader(io.StringIO(raw.decode()))}
    slugs = {s.code: s.slug for s in DiseaseSubtype.objects.all()}
    for cell in matrix["cells"]:
        key = (cell["therapy"], cell["subtype"])
        summary = api.get(f"/api/v1/summary/{key[0]}/{key[1]}/").json()
        for field in ("certainty", "direction", "trials", "patients", "safety_signals"):
            assert summary[field] == cell[field], (key, field)
        assert len(summary["studies"]) == cell["studies"]
        row = rows[key]
        assert row["certainty"] == cell["certainty"] and row["direction"] == cell["direction"]
        assert row["patients"] == ("" if cell["patients"] is None else str(cell["patients"]))
        page = text(client.get(f"/therapies/{key[0]}/{slugs[key[1]]}/").content.decode())
        assert f"Studies {cell['studies']} ({cell['trials']} trial" in page, key
        shown = "not reported" if cell["patients"] is None else str(cell["patients"])
        assert f"Patients {shown}" in page, key
        label = Certainty(cell["certainty"]).label.split(" (")[0]
        assert label in page, key
