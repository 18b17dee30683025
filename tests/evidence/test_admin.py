"""The evidence admin: pages for curators and editors, the level of evidence on the study form,
CSV export and marking studies verified."""

import csv
import io

import pytest
from django import forms
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.choices import ReviewStatus
from evidence.models import (
    Arm,
    DiseaseSubtype,
    Outcome,
    OutcomeArmResult,
    Provenance,
    Statement,
    Study,
)
from evidence.services.studies import FACTS_CHANGED

pytestmark = pytest.mark.django_db


def draft_study() -> Study:
    study = Study.objects.filter(provenance__isnull=False).order_by("pk").first()
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    study.refresh_from_db()
    return study


@pytest.mark.parametrize("role", ["curator", "editor"])
def test_every_page_opens(client, request, role):
    request.getfixturevalue(role)
    study = Study.objects.order_by("pk").first()
    pages = {
        "evidence_study": study.pk,
        "evidence_outcome": Outcome.objects.first().pk,
        "evidence_provenance": Provenance.objects.first().pk,
        "evidence_statement": Statement.objects.first().pk,
        "evidence_diseasesubtype": DiseaseSubtype.objects.first().pk,
    }
    for name, pk in pages.items():
        for url in [
            reverse(f"admin:{name}_changelist"),
            reverse(f"admin:{name}_add"),
            reverse(f"admin:{name}_change", args=[pk]),
            reverse(f"admin:{name}_history", args=[pk]),
        ]:
            assert client.get(url).status_code == 200, url
    assert (
        client.get(
            reverse("admin:evidence_study_changelist"),
            {"q": "rituximab", "design__exact": "rct_placebo_phase"},
        ).status_code
        == 200
    )


def test_the_study_changelist_query_count_is_pinned(client, editor, django_assert_max_num_queries):
    with django_assert_max_num_queries(25):
        assert client.get(reverse("admin:evidence_study_changelist")).status_code == 200


def test_the_study_form_shows_the_suggested_level_beside_the_override(client, curator):
    study = Study.objects.get(key="ref01-rim-trial")
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    page = client.get(reverse("admin:evidence_study_change", args=[study.pk])).content.decode()
    assert "suggested level" in page.lower()
    assert "Level 2: Randomised trial" in page
    assert "an override needs a reason" in page
    assert page.index("Level 2: Randomised trial") < page.index('name="level_override"')


def study_post_data(client, study) -> dict:
    """The study's change form as displayed, ready to post back."""
    return change_form_data(client, reverse("admin:evidence_study_change", args=[study.pk]))


def row_prefix(data: dict, inline: str, pk: int) -> str:
    """The prefix ("arms-1") of the row of the ``inline`` formset that holds stored row ``pk``,
    in a form's data as ``change_form_data`` gives it."""
    return next(
        key[: -len("-id")]
        for key, value in data.items()
        if key.startswith(f"{inline}-") and key.endswith("-id") and value == str(pk)
    )


def change_form_data(client, url: str) -> dict:
    """An admin change form (with its inlines) as displayed, ready to post back."""
    response = client.get(url)
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        # An unticked box is left out of a post; a "No" chosen in a yes/no/unknown list is not.
        if value is None or (
            value is False and isinstance(form.fields[name].widget, forms.CheckboxInput)
        ):
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = str(management[name].value())
        for row in formset.formset.forms:
            for name in row.fields:
                value = row[name].value()
                if value is None or value is False:
                    continue
                if value is True:
                    value = "on"
                # Checkbox groups (provenance facts) post one value per ticked box.
                data[f"{row.prefix}-{name}"] = (
                    [str(v) for v in value] if isinstance(value, list) else str(value)
                )
    return data


def test_an_override_without_a_reason_is_refused_on_the_form(client, curator):
    study = draft_study()
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = study_post_data(client, study)
    data.update(level_override="3", level_override_reason="")
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["level_override_reason"] == [
        "Give the reason for overriding the suggested level."
    ]
    data["level_override_reason"] = "Small sample; imprecise."
    assert client.post(url, data).status_code == 302
    study.refresh_from_db()
    assert (study.level, study.level_override_reason) == (3, "Small sample; imprecise.")


def test_ticking_provenance_verified_records_who_and_when(client, curator):
    study = draft_study()
    provenance = study.provenance.order_by("pk").first()
    Provenance.objects.filter(pk=provenance.pk).update(verified=False)
    data = study_post_data(client, study)
    index = list(study.provenance.order_by("pk")).index(provenance)
    data[f"provenance-{index}-verified"] = "on"
    response = client.post(reverse("admin:evidence_study_change", args=[study.pk]), data)
    assert response.status_code == 302
    provenance.refresh_from_db()
    assert provenance.verified and provenance.verified_by == "curator"
    assert provenance.verified_at is not None


def verified_provenance(study) -> Provenance:
    provenance = study.provenance.order_by("pk").first()
    Provenance.objects.filter(pk=provenance.pk).update(
        verified=True, verified_by="alice", verified_at=timezone.now()
    )
    return provenance


def test_editing_what_a_verified_provenance_record_says_withdraws_its_verification(client, curator):
    study = draft_study()
    provenance = verified_provenance(study)
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = study_post_data(client, study)
    assert client.post(url, data).status_code == 302  # posted back unchanged: still verified
    provenance.refresh_from_db()
    assert (provenance.verified, provenance.verified_by) == (True, "alice")
    data = study_post_data(client, study)
    data[f"{row_prefix(data, 'provenance', provenance.pk)}-note"] = "Checked against the PDF."
    response = client.post(url, data, follow=True)
    assert response.redirect_chain, response.context["adminform"].form.errors
    provenance.refresh_from_db()
    assert (provenance.verified, provenance.verified_by, provenance.verified_at) == (
        False,
        "",
        None,
    )
    assert provenance.note == "Checked against the PDF."
    assert any("no longer marked verified" in str(m) for m in response.context["messages"])


def test_the_provenance_page_withdraws_a_verification_when_the_record_changes(client, curator):
    study = draft_study()
    provenance = verified_provenance(study)
    url = reverse("admin:evidence_provenance_change", args=[provenance.pk])
    data = change_form_data(client, url)
    data["pmid"] = "12345678" if provenance.pmid != "12345678" else "87654321"
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    provenance.refresh_from_db()
    assert not provenance.verified and provenance.verified_by == ""
    assert any("no longer marked verified" in str(m) for m in response.context["messages"])


def test_deleting_an_arm_says_which_per_arm_results_went_with_it(client, editor):
    study = Study.objects.filter(arms__results__isnull=False).distinct().order_by("pk").first()
    arm = study.arms.filter(results__isnull=False).distinct().first()
    results = arm.results.count()
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = study_post_data(client, study)
    data[f"{row_prefix(data, 'arms', arm.pk)}-DELETE"] = "on"
    response = client.post(url, data, follow=True)
    assert response.redirect_chain, response.context["adminform"].form.errors
    assert not study.arms.filter(pk=arm.pk).exists()
    messages = [str(m) for m in response.context["messages"]]
    plural = "s" if results != 1 else ""
    assert f"“{arm.label}” was deleted with its {results} per-arm result{plural}" in " ".join(
        messages
    )


def test_export_selected_studies_as_csv(client, curator):
    study = Study.objects.get(key="ref01-rim-trial")
    Study.objects.filter(pk=study.pk).update(label='=HYPERLINK("http://evil")')
    response = client.post(
        reverse("admin:evidence_study_changelist"),
        {"action": "export_csv", "_selected_action": [study.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    row = rows[0]
    assert row["key"] == "ref01-rim-trial" and row["reference_number"] == "1"
    assert row["level"] == "2" and "rituximab" in row["therapies"].lower()
    assert row["label"].startswith("'=")  # not run as a formula by a spreadsheet


def test_mark_verified_marks_the_study_and_its_provenance(client, curator):
    study = draft_study()
    Provenance.objects.filter(study=study).update(verified=False, verified_by="")
    client.post(
        reverse("admin:evidence_study_changelist"),
        {"action": "mark_verified", "_selected_action": [study.pk]},
    )
    study.refresh_from_db()
    assert study.verified
    assert set(study.provenance.values_list("verified", "verified_by")) == {(True, "curator")}
    assert study.history.first().history_change_reason == "Marked verified"


def test_a_curator_cannot_mark_a_published_study_verified(client, curator):
    study = (
        Study.objects.filter(verified=False).order_by("pk").first()
        or Study.objects.order_by("pk").first()
    )
    Study.objects.filter(pk=study.pk).update(verified=False)
    response = client.post(
        reverse("admin:evidence_study_changelist"),
        {"action": "mark_verified", "_selected_action": [study.pk]},
        follow=True,
    )
    assert "only editors change those" in response.content.decode()
    study.refresh_from_db()
    assert not study.verified


def test_a_curator_cannot_add_an_outcome_to_a_published_study(client, curator):
    study = Study.objects.order_by("pk").first()
    response = client.post(
        reverse("admin:evidence_outcome_add"),
        {"study": study.pk, "measure": "ck", "value": "x", "order": "0"},
    )
    assert response.status_code == 200
    assert "only an editor can change it" in response.content.decode()
    assert not study.outcomes.filter(value="x").exists()


def test_a_curator_cannot_verify_a_study_they_wrote(client, curator):
    """Verification is a second pair of eyes: the action refuses the studies the user
    created or last changed (as the history records), naming them, and changes nothing."""
    study = draft_study()
    Provenance.objects.filter(study=study).update(verified=False, verified_by="")
    Study.objects.filter(pk=study.pk).update(verified=False)
    study.refresh_from_db()
    study.summary += " Edited by the curator."
    study._history_user = curator
    study.save()
    response = client.post(
        reverse("admin:evidence_study_changelist"),
        {"action": "mark_verified", "_selected_action": [study.pk]},
        follow=True,
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert "you wrote or changed" in text and str(study) in text
    study.refresh_from_db()
    assert not study.verified
    assert not study.provenance.filter(verified=True).exists()


def test_a_curator_cannot_tick_verified_on_facts_they_wrote(client, curator):
    """The provenance inline and the provenance page refuse self-verification too."""
    study = draft_study()
    Provenance.objects.filter(study=study).update(verified=False, verified_by="")
    study.summary += " Edited by the curator."
    study._history_user = curator
    study.save()
    data = study_post_data(client, study)
    data["provenance-0-verified"] = "on"
    response = client.post(reverse("admin:evidence_study_change", args=[study.pk]), data)
    assert response.status_code == 200
    assert "must be verified by another curator" in response.content.decode()
    provenance = study.provenance.order_by("pk").first()
    page = reverse("admin:evidence_provenance_change", args=[provenance.pk])
    form = change_form_data(client, page)
    form["verified"] = "on"
    response = client.post(page, form)
    assert "must be verified by another curator" in response.content.decode()
    assert not study.provenance.filter(verified=True).exists()


# -- per-arm results, on the outcome's page ------------------------------------------------------


def outcome_with_arm_results(draft: bool = False) -> Outcome:
    outcome = Outcome.objects.filter(arm_results__isnull=False).distinct().order_by("pk").first()
    if draft:
        Study.objects.filter(pk=outcome.study_id).update(status=ReviewStatus.DRAFT)
    return outcome


def test_an_editor_edits_per_arm_results_on_the_outcome_page(client, editor):
    outcome = outcome_with_arm_results()
    result = outcome.arm_results.order_by("pk").first()
    url = reverse("admin:evidence_outcome_change", args=[outcome.pk])
    data = change_form_data(client, url)
    row = row_prefix(data, "arm_results", result.pk)
    data[f"{row}-responders"], data[f"{row}-n"], data[f"{row}-value"] = "3", "9", "3/9 improved"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    result.refresh_from_db()
    assert (result.responders, result.n, result.value) == (3, 9, "3/9 improved")
    record = result.history.first()
    assert (record.history_user, record.history_change_reason) == (editor, "Changed in the admin")


def test_the_arm_list_offers_only_the_outcomes_own_study(client, editor):
    outcome = outcome_with_arm_results()
    url = reverse("admin:evidence_outcome_change", args=[outcome.pk])
    formset = client.get(url).context["inline_admin_formsets"][0].formset
    offered = set(formset.forms[0].fields["arm"].queryset)
    assert offered == set(Arm.objects.filter(study=outcome.study_id))
    # A forged post naming another study's arm is refused, and nothing is saved.
    foreign = Arm.objects.exclude(study=outcome.study_id).first()
    data = change_form_data(client, url)
    result = outcome.arm_results.order_by("pk").first()
    row = row_prefix(data, "arm_results", result.pk)
    data[f"{row}-arm"] = str(foreign.pk)
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    result.refresh_from_db()
    assert result.arm.study_id == outcome.study_id


def test_more_responders_than_patients_is_refused_with_the_reason(client, editor):
    outcome = outcome_with_arm_results()
    url = reverse("admin:evidence_outcome_change", args=[outcome.pk])
    data = change_form_data(client, url)
    result = outcome.arm_results.order_by("pk").first()
    before = (result.responders, result.n, result.value)
    row = row_prefix(data, "arm_results", result.pk)
    data[f"{row}-responders"], data[f"{row}-n"] = "12", "10"
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Responders cannot exceed n." in response.content.decode()
    result.refresh_from_db()
    assert (result.responders, result.n, result.value) == before


def test_a_curator_adds_a_per_arm_result_to_a_draft_but_not_a_published_study(client, curator):
    published = outcome_with_arm_results()
    page = client.get(reverse("admin:evidence_outcome_change", args=[published.pk]))
    assert not page.context["inline_admin_formsets"][0].has_add_permission
    draft = outcome_with_arm_results(draft=True)
    arm = Arm.objects.filter(study=draft.study_id).exclude(results__outcome=draft).first()
    if arm is None:  # every arm has a result: free one
        arm = draft.arm_results.order_by("-pk").first().arm
        draft.arm_results.filter(arm=arm).delete()
    url = reverse("admin:evidence_outcome_change", args=[draft.pk])
    data = change_form_data(client, url)
    total = int(data["arm_results-TOTAL_FORMS"])
    data["arm_results-TOTAL_FORMS"] = str(total + 1)
    data[f"arm_results-{total}-arm"] = str(arm.pk)
    data[f"arm_results-{total}-value"] = "added by the curator"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    assert draft.arm_results.filter(arm=arm, value="added by the curator").exists()


def test_the_study_page_links_each_outcome_to_its_per_arm_results(client, editor):
    outcome = outcome_with_arm_results()
    page = client.get(reverse("admin:evidence_study_change", args=[outcome.study_id]))
    link = reverse("admin:evidence_outcome_change", args=[outcome.pk]) + "#arm_results-group"
    assert f'href="{link}"' in page.content.decode()


def test_two_per_arm_results_swap_their_arms(client, editor):
    """Both columns of the (outcome, arm) pair are foreign keys: the first row saved clashed
    with the second's stored arm (a 500)."""
    outcome = outcome_with_arm_results()
    first, second = outcome.arm_results.order_by("pk")[:2]
    url = reverse("admin:evidence_outcome_change", args=[outcome.pk])
    data = change_form_data(client, url)
    data[f"{row_prefix(data, 'arm_results', first.pk)}-arm"] = str(second.arm_id)
    data[f"{row_prefix(data, 'arm_results', second.pk)}-arm"] = str(first.arm_id)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    first_after, second_after = (
        OutcomeArmResult.objects.get(pk=first.pk),
        OutcomeArmResult.objects.get(pk=second.pk),
    )
    assert (first_after.arm_id, second_after.arm_id) == (second.arm_id, first.arm_id)
    assert first_after.history.first().prev_record.arm_id == first.arm_id


# -- a verified study's facts edited: its verification is withdrawn -----------------------------


def verified_study() -> Study:
    study = Study.objects.get(key="ref02-aza-prednisone-trial")
    Study.objects.filter(pk=study.pk).update(verified=True)
    study.refresh_from_db()
    return study


def test_editing_a_verified_studys_facts_in_the_admin_withdraws_its_verification(client, editor):
    """A second curator verified the facts as they were; the public page then says nothing.
    An edit kept the flag, so the page went on implying a check nobody had made."""
    study = verified_study()
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = study_post_data(client, study)
    data["summary"] = study.summary + " Edited."
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    study.refresh_from_db()
    assert not study.verified
    assert study.history.first().history_change_reason == FACTS_CHANGED
    assert "is no longer marked verified" in response.content.decode()
    page = Client().get(study.get_absolute_url()).content.decode()
    assert "Not yet verified by a curator" in page


def test_an_outcome_edited_on_the_study_page_withdraws_it_and_an_unchanged_post_keeps_it(
    client, editor
):
    study = verified_study()
    url = reverse("admin:evidence_study_change", args=[study.pk])
    assert client.post(url, study_post_data(client, study)).status_code == 302
    study.refresh_from_db()
    assert study.verified  # nothing changed: nothing to withdraw
    data = study_post_data(client, study)
    row = next(k for k in data if k.startswith("outcomes-") and k.endswith("-value"))
    data[row] = "changed value"
    assert client.post(url, data).status_code == 302
    study.refresh_from_db()
    assert not study.verified


def test_a_fact_changed_through_the_api_withdraws_it_too(editor_api, fresh_throttle):
    study = verified_study()
    url = f"/api/v1/studies/{study.pk}/"
    read = editor_api.get(url)
    same = editor_api.patch(
        url, {"summary": study.summary}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert same.status_code == 200
    study.refresh_from_db()
    assert study.verified
    read = editor_api.get(url)
    changed = editor_api.patch(
        url, {"summary": "Another summary."}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert changed.status_code == 200, changed.json()
    study.refresh_from_db()
    assert not study.verified
    assert study.history.first().history_change_reason == FACTS_CHANGED
