"""Writing a study's outcomes and provenance through the services (the API, the fixtures, a
backup): each given row changes the stored row it stands for, so what hangs on a row (an
outcome's per-arm results, a record's verification) stays with it or goes, never moves."""

import pytest
from django.utils import timezone

from core.choices import ReviewStatus
from evidence.models import Outcome, OutcomeArmResult, Provenance, Study
from evidence.services.studies import upsert_study
from tests.evidence.test_synthesis_admin_and_services import study_args

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


# -- outcomes and their per-arm results -------------------------------------------------------

OUTCOME_FIELDS = ["measure", "description", "timepoint", "responders", "n", "value", "is_primary"]


def results_by_outcome(study) -> dict:
    """Each outcome's per-arm results, by what the outcome says (not its id)."""
    return {
        (o.measure, o.description): sorted(
            (r.arm.label, r.responders, r.n, r.value) for r in o.arm_results.all()
        )
        for o in study.outcomes.all()
    }


@pytest.fixture
def etanercept_pilot(editor_api):
    """A draft study whose four outcomes each have per-arm results, and its API address."""
    study = Study.objects.get(key="ref31-msg-etanercept-pilot-rct")
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    return study, f"/api/v1/studies/{study.pk}/"


def shown_outcomes(api, url) -> tuple[list[dict], str]:
    got = api.get(url)
    return [{k: o[k] for k in ["id", *OUTCOME_FIELDS]} for o in got.json()["outcomes"]], got["ETag"]


def test_dropping_an_outcome_through_the_api_leaves_the_others_results_in_place(
    editor_api, etanercept_pilot
):
    """Rows were matched to outcomes by position: dropping the first moved every later
    outcome's per-arm results onto the one before it."""
    study, url = etanercept_pilot
    rows, etag = shown_outcomes(editor_api, url)
    assert all(o.arm_results.exists() for o in study.outcomes.all())
    before = results_by_outcome(study)
    kept = [{k: v for k, v in row.items() if k != "id"} for row in rows[1:]]  # ids left out
    response = editor_api.patch(url, {"outcomes": kept}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    dropped = (rows[0]["measure"], rows[0]["description"])
    assert results_by_outcome(study) == {k: v for k, v in before.items() if k != dropped}


def test_a_changed_outcome_named_by_id_keeps_its_results_whatever_the_order(
    editor_api, etanercept_pilot
):
    study, url = etanercept_pilot
    rows, etag = shown_outcomes(editor_api, url)
    before = results_by_outcome(study)
    rows = rows[::-1]
    rows[0]["description"] += " (edited)"
    response = editor_api.patch(url, {"outcomes": rows}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    edited = next(k for k in before if k[1] + " (edited)" == rows[0]["description"])
    after = results_by_outcome(study)
    assert after.pop((edited[0], edited[1] + " (edited)")) == before.pop(edited)
    assert after == before
    assert [o.description for o in study.outcomes.all()] == [r["description"] for r in rows]


def test_an_unnamed_change_that_could_move_results_is_refused_and_changes_nothing(
    editor_api, etanercept_pilot
):
    """Without ids, dropping one outcome and changing another is ambiguous: which stored
    outcome does the changed row replace? Refused (400), naming the outcome, not guessed."""
    study, url = etanercept_pilot
    rows, etag = shown_outcomes(editor_api, url)
    before = results_by_outcome(study)
    kept = [{k: v for k, v in row.items() if k != "id"} for row in rows[1:]]
    kept[0]["value"] = "changed"
    response = editor_api.patch(url, {"outcomes": kept}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400, response.json()
    assert "has per-arm results" in response.json()["outcomes"][0]
    assert f"outcome {rows[0]['id']}" in response.json()["outcomes"][0]
    assert results_by_outcome(study) == before


def test_an_outcome_id_from_another_study_is_refused(editor_api, etanercept_pilot):
    study, url = etanercept_pilot
    rows, etag = shown_outcomes(editor_api, url)
    foreign = Outcome.objects.exclude(study=study).first()
    rows[0]["id"] = foreign.pk
    response = editor_api.patch(url, {"outcomes": rows}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 400
    assert f"this study has no outcome {foreign.pk}" in response.json()["outcomes"][0]
    foreign.refresh_from_db()
    assert foreign.study_id != study.pk


def test_outcomes_without_results_are_still_changed_in_order():
    """The fixtures' way (no ids): a changed row changes the outcome in its place."""
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    args = study_args()
    del args["arms"]
    outcomes = [
        {k: getattr(o, k) for k in OUTCOME_FIELDS} for o in study.outcomes.order_by("order")
    ]
    assert len(outcomes) > 1 and not OutcomeArmResult.objects.filter(outcome__study=study)
    ids = [o.pk for o in study.outcomes.order_by("order")]
    outcomes[0]["value"] = "changed in place"
    upsert_study(**{**args, "outcomes": outcomes})
    assert [o.pk for o in study.outcomes.order_by("order")] == ids
    assert study.outcomes.get(pk=ids[0]).value == "changed in place"


def test_with_ids_a_row_without_one_is_a_new_outcome(editor_api, etanercept_pilot):
    """One outcome dropped, the others named, one added: the added row is new, and the
    dropped outcome goes with its results, which nobody else gets."""
    study, url = etanercept_pilot
    rows, etag = shown_outcomes(editor_api, url)
    before = results_by_outcome(study)
    new = {"measure": "ck", "description": "added through the API", "value": "lower"}
    response = editor_api.patch(
        url, {"outcomes": [*rows[1:], new]}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.json()
    after = results_by_outcome(study)
    assert after.pop(("ck", "added through the API")) == []
    assert after == {
        k: v for k, v in before.items() if k != (rows[0]["measure"], rows[0]["description"])
    }
    assert not Outcome.objects.filter(pk=rows[0]["id"]).exists()


# -- provenance records and their verification ----------------------------------------------


def _study_with_first_record_verified() -> tuple[Study, list[Provenance]]:
    study = Study.objects.get(key="ref01-rim-trial")
    rows = list(study.provenance.order_by("pk"))
    assert len(rows) >= 3, "the RIM trial has three provenance records in the corpus"
    # A second curator verified the first record only (as the admin's action records it).
    Provenance.objects.filter(pk=rows[0].pk).update(
        verified=True, verified_by="alice", verified_at=timezone.now()
    )
    Provenance.objects.filter(pk__in=[r.pk for r in rows[1:]]).update(
        verified=False, verified_by="", verified_at=None
    )
    return study, rows


def _verified_urls(study: Study) -> dict[str, tuple[bool, str]]:
    return {p.url: (p.verified, p.verified_by) for p in study.provenance.all()}


def test_removing_a_verified_provenance_row_does_not_verify_another_record(editor_api):
    """Rows were matched by position: the removed record's verification was moved onto the
    next record (its URL, source and facts written into the verified row), so the site and
    the API said "verified by a second curator" of a record nobody had checked."""
    study, rows = _study_with_first_record_verified()
    url = f"/api/v1/studies/{study.pk}/"
    read = editor_api.get(url)
    shown = read.json()["provenance"]
    assert shown[0]["verified"] and not shown[1]["verified"]

    # The client drops the (verified) first record and sends the others unchanged.
    response = editor_api.patch(
        url, {"provenance": shown[1:]}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 200, response.content

    after = _verified_urls(study)
    assert rows[0].url not in after
    # The records kept were not verified before, and nobody verified them since.
    assert after[rows[1].url] == (False, ""), (
        f"{rows[1].url} now shows {after[rows[1].url]}: the removed record's verification "
        "moved onto it"
    )
    assert after[rows[2].url] == (False, "")


def test_reordering_provenance_rows_keeps_each_records_verification(editor_api):
    """Sending the same records in another order swapped their verification: the verified
    record became unverified and an unverified one was shown as verified by alice."""
    study, rows = _study_with_first_record_verified()
    url = f"/api/v1/studies/{study.pk}/"
    read = editor_api.get(url)
    shown = read.json()["provenance"]

    response = editor_api.patch(
        url, {"provenance": list(reversed(shown))}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 200, response.content

    after = _verified_urls(study)
    assert after[rows[0].url] == (True, "alice"), f"the verified record now shows {after}"
    assert after[rows[-1].url] == (False, ""), f"an unverified record now shows {after}"


def test_a_record_whose_content_changes_loses_its_verification(editor_api):
    """Verification is of what the record said: changed through the API (without the
    verification fields), the record is no longer verified."""
    study, rows = _study_with_first_record_verified()
    url = f"/api/v1/studies/{study.pk}/"
    read = editor_api.get(url)
    shown = read.json()["provenance"]
    shown[0]["note"] = "another note"
    response = editor_api.patch(
        url, {"provenance": shown}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 200, response.content
    record = Provenance.objects.get(pk=rows[0].pk)
    assert (record.note, record.verified, record.verified_by, record.verified_at) == (
        "another note",
        False,
        "",
        None,
    )
