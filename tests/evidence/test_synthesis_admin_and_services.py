"""Curating the synthesis: the admin forms, and the services' errors on bad data (issue 13)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.choices import ReviewStatus
from evidence.models import (
    Arm,
    CertaintyOverride,
    Outcome,
    OutcomeArmResult,
    Study,
    Trial,
    validate_registry_ids,
)
from evidence.services.studies import StudyDataError, upsert_study
from evidence.services.trials import upsert_trial
from tests.evidence.test_admin import study_post_data

pytestmark = pytest.mark.django_db


def test_the_synthesis_admin_pages_open(client, curator):
    trial = Trial.objects.get(key="rim")
    override = CertaintyOverride.objects.first()
    for url in (
        reverse("admin:evidence_trial_changelist"),
        reverse("admin:evidence_trial_change", args=[trial.pk]),
        reverse("admin:evidence_trial_add"),
        reverse("admin:evidence_certaintyoverride_changelist"),
        reverse("admin:evidence_certaintyoverride_change", args=[override.pk]),
        reverse("admin:evidence_certaintyoverride_add"),
    ):
        assert client.get(url).status_code == 200, url


def test_the_study_form_edits_arms_and_subtype_counts(client, curator):
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    url = reverse("admin:evidence_study_change", args=[study.pk])
    page = client.get(url).content.decode()
    assert "prednisone (all patients)" in page and "patients per subtype" in page.lower()
    data = study_post_data(client, study)
    arm = study.arms.get(therapy__slug="azathioprine")
    prefix = next(k for k, v in data.items() if k.endswith("-id") and v == str(arm.pk))[:-3]
    data[f"{prefix}-dose"] = "2 mg/kg per day (edited)"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Arm.objects.get(pk=arm.pk).dose == "2 mg/kg per day (edited)"


def test_an_override_without_a_reason_is_refused_in_the_admin(client, curator):
    response = client.post(
        reverse("admin:evidence_certaintyoverride_add"),
        {
            "therapy": Study.objects.get(key="ref31-msg-etanercept-pilot-rct").therapies.get().pk,
            "subtype": Study.objects.get(key="ref31-msg-etanercept-pilot-rct").subtypes.get().pk,
            "measure": "",
            "certainty": "moderate",
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors


@pytest.mark.parametrize(
    "ids, message",
    [
        (["NCT0010618"], "Not a registry id we know: NCT0010618"),
        (["nct00106184"], "Not a registry id we know"),
        (["NCT00106184", "NCT00106184"], "listed twice"),
        ("NCT00106184", "must be a list"),
    ],
)
def test_registry_ids_are_validated(ids, message):
    with pytest.raises(ValidationError, match=message):
        validate_registry_ids(ids)
    with pytest.raises(ValidationError):
        upsert_trial(
            key="bad", name="Bad", registry_ids=ids if isinstance(ids, list) else [ids[:5]]
        )


def study_args(**changes):
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    args = {
        "key": study.key,
        "reference": study.reference,
        "label": study.label,
        "therapies": ["azathioprine", "glucocorticoids"],
        "subtypes": ["pm"],
        "design": study.design,
        "result": study.result,
        "summary": study.summary,
        "status": study.status,
        "arms": [{"label": "azathioprine", "therapy": "azathioprine", "role": "tested"}],
    }
    return {**args, **changes}


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"arms": [{"label": "x", "therapy": "no-such-drug", "role": "tested"}]},
            "unknown arms\\[0\\] therapy slug",
        ),
        (
            {
                "arms": [
                    {"label": "a", "therapy": "azathioprine"},
                    {"label": "a", "therapy": None, "role": "comparator"},
                ]
            },
            "two arms have the same label",
        ),
        (
            {"arms": [{"label": "a", "therapy": "azathioprine", "colour": "red"}]},
            "arms\\[0\\]: unknown field",
        ),
        ({"subtype_counts": {"dm": 3}}, "dm not among the study's subtypes"),
        ({"trial": "no-such-trial"}, "unknown trial key"),
        (
            {"outcomes": [{"measure": "ck", "arm_results": [{"arm": "nobody", "n": 1}]}]},
            "no arm labelled 'nobody'",
        ),
    ],
)
def test_bad_synthesis_data_is_refused_with_a_clear_message(changes, message):
    with pytest.raises(StudyDataError, match=message):
        upsert_study(**study_args(**changes))


def test_a_tested_arm_needs_its_therapy():
    with pytest.raises(ValidationError, match="A tested arm needs its therapy"):
        upsert_study(**study_args(arms=[{"label": "x", "therapy": None, "role": "tested"}]))


def test_an_update_without_arms_keeps_the_curated_arms():
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    before = list(study.arms.values_list("label", "role"))
    args = study_args()
    del args["arms"]
    upsert_study(**args)
    assert list(study.arms.values_list("label", "role")) == before


# -- outcomes given without ids keep their per-arm results ---------------------------------------

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
