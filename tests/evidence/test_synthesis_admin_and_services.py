"""Curating the synthesis: the admin forms, and the services' errors on bad data (issue 13)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.choices import ReviewStatus
from evidence.models import (
    Arm,
    CertaintyOverride,
    DiseaseSubtype,
    Study,
    Trial,
    validate_registry_ids,
)
from evidence.services.studies import StudyDataError, upsert_study
from evidence.services.trials import upsert_trial
from tests.evidence.test_admin import row_prefix, study_post_data

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
    prefix = row_prefix(data, "arms", arm.pk)
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


def test_a_therapies_change_that_the_arms_contradict_is_refused(editor_api, fresh_throttle):
    """The synthesis rates a study for what its tested arms give. The API changed the study's
    therapies and kept its arms (it cannot write arms): Levine's rituximab pilot, changed to
    IVIg, was listed under IVIg and still rated under rituximab."""
    study = Study.objects.get(key="ref13-levine-rtx-pilot")
    assert [(a.therapy.slug, a.role) for a in study.arms.all()] == [("rituximab", "tested")]
    url = f"/api/v1/studies/{study.pk}/"
    read = editor_api.get(url)
    response = editor_api.patch(
        url, {"therapies": ["ivig"]}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 400, response.json()
    message = response.json()["therapies"][0]
    assert "Rituximab is tested by the arm “rituximab”" in message
    assert "no arm tests Intravenous immune globulin (IVIg)" in message
    assert [t.slug for t in study.therapies.all()] == ["rituximab"]
    # The same therapies again is no change: accepted.
    read = editor_api.get(url)
    response = editor_api.patch(
        url, {"therapies": ["rituximab"]}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 200, response.json()


def test_a_subtypes_change_that_would_orphan_patient_counts_is_refused(editor_api, fresh_throttle):
    """The API changes a study's subtypes and keeps its patient counts (it cannot write them):
    dropping JDM from the RIM trial kept "48 with JDM", shown and used nowhere."""
    study = Study.objects.get(key="ref01-rim-trial")
    url = f"/api/v1/studies/{study.pk}/"
    read = editor_api.get(url)
    response = editor_api.patch(
        url, {"subtypes": ["dm", "pm"]}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 400, response.json()
    message = response.json()["subtypes"][0]
    assert "48 with Juvenile dermatomyositis" in message and "in the admin first" in message
    assert sorted(study.subtypes.values_list("code", flat=True)) == ["dm", "jdm", "pm"]
    # Dropping a subtype no patients are counted for is accepted.
    valiyil = Study.objects.get(key="ref12-valiyil-anti-srp-series")
    url = f"/api/v1/studies/{valiyil.pk}/"
    read = editor_api.get(url)
    response = editor_api.patch(
        url, {"subtypes": ["anti-srp"]}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 200, response.json()


def test_the_admin_refuses_patients_counted_for_a_subtype_the_study_lacks(client, editor):
    study = Study.objects.get(key="ref01-rim-trial")
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = study_post_data(client, study)
    jdm = DiseaseSubtype.objects.get(code="jdm")
    data["subtypes"] = [v for v in data["subtypes"] if v != str(jdm.pk)]
    response = client.post(url, data)
    assert response.status_code == 200
    errors = [
        str(error)
        for formset in response.context["inline_admin_formsets"]
        for error in formset.formset.non_form_errors()
    ]
    assert any("Juvenile dermatomyositis" in e and "not among" in e for e in errors), errors
    assert study.subtypes.filter(code="jdm").exists()
    # Removing the count with the subtype is accepted.
    prefix = row_prefix(data, "subtype_counts", study.subtype_counts.get(subtype=jdm).pk)
    data[f"{prefix}-DELETE"] = "on"
    response = client.post(
        url,
        study_post_data(client, study) | {"subtypes": data["subtypes"], f"{prefix}-DELETE": "on"},
    )
    assert response.status_code == 302
    assert not study.subtypes.filter(code="jdm").exists()
    assert not study.subtype_counts.filter(subtype=jdm).exists()


def test_two_arms_swap_their_labels_in_the_admin(client, editor):
    """Saved one by one, the first arm clashed with the second's stored label: the service's
    validation raised, and the admin answered 500."""
    study = Study.objects.get(key="ref01-rim-trial")
    first, second = study.arms.order_by("order", "pk")[:2]
    results = {a.pk: sorted(a.results.values_list("pk", flat=True)) for a in (first, second)}
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = study_post_data(client, study)
    data[f"{row_prefix(data, 'arms', first.pk)}-label"] = second.label
    data[f"{row_prefix(data, 'arms', second.pk)}-label"] = first.label
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert Arm.objects.get(pk=first.pk).label == second.label
    assert Arm.objects.get(pk=second.pk).label == first.label
    # Each arm keeps its own per-arm results, and its history says what it was.
    assert {
        a.pk: sorted(a.results.values_list("pk", flat=True)) for a in (first, second)
    } == results
    record = Arm.objects.get(pk=first.pk).history.first()
    assert (record.label, record.prev_record.label) == (second.label, first.label)
