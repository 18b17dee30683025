"""The "new paper → study" path through the admin (evidence/admin_path.py), one step at a time:
reference → study (reference prefilled) → arms and outcomes → provenance and review."""

import pytest
from django.urls import reverse

from core.choices import ReviewStatus
from evidence.models import Arm, DiseaseSubtype, Outcome, OutcomeArmResult, Provenance, Study
from references.models import Reference
from tests.evidence.test_admin import change_form_data
from tests.references.test_admin import form_data as reference_form_data
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


def steps_of(response) -> list[tuple[str, bool, bool]]:
    return [(s.title, s.done, s.current) for s in response.context["paper_steps"]]


def new_study_data(client, reference: Reference, **fields) -> dict:
    """The study add form opened from ``reference``, filled in with one tested arm."""
    url = reverse("admin:evidence_study_add") + f"?reference={reference.pk}"
    data = change_form_data(client, url)
    therapy = Therapy.objects.order_by("pk").first()
    data.update(
        key="path-test-study",
        label="Path test study",
        therapies=[str(therapy.pk)],
        subtypes=[str(DiseaseSubtype.objects.order_by("pk").first().pk)],
        design="case_series",
        result="benefit",
        summary="A summary in our own words.",
        data_availability="abstract",
        has_result_data="on",
        **{
            "arms-TOTAL_FORMS": "1",
            "arms-0-order": "1",
            "arms-0-label": "Treated",
            "arms-0-therapy": str(therapy.pk),
            "arms-0-role": "tested",
        },
    )
    data.update(fields)
    return data


def test_the_reference_add_form_is_step_one_with_a_button_to_go_on(client, curator):
    response = client.get(reverse("admin:references_reference_add"))
    assert steps_of(response) == [
        ("Reference", False, True),
        ("Study", False, False),
        ("Arms & outcomes", False, False),
        ("Provenance / submit for review", False, False),
    ]
    page = response.content.decode()
    assert 'aria-current="step"' in page
    assert 'name="_addstudy" value="Save and add a study from this reference"' in page
    lookup = reverse("admin:references_reference_lookup")
    assert f'<a href="{lookup}">Fill this form from a PMID or DOI</a>' in page


def test_the_form_filled_from_a_pmid_or_doi_has_the_button_too(client, curator):
    from references.admin import LOOKUP_SESSION_KEY

    session = client.session
    session[LOOKUP_SESSION_KEY] = {"title": "A looked-up title", "year": 2024, "authors": []}
    session.save()
    response = client.get(reverse("admin:references_reference_add"), {"lookup": "1"})
    page = response.content.decode()
    assert response.context["adminform"].form["title"].value() == "A looked-up title"
    assert 'name="_addstudy"' in page
    assert "Fill this form from a PMID or DOI" not in page


def test_saving_a_reference_with_the_button_opens_a_study_for_it(client, curator):
    response = client.post(
        reverse("admin:references_reference_add"), reference_form_data(_addstudy="1")
    )
    reference = Reference.objects.get(bibtex_key="new2024")
    assert response.status_code == 302
    assert (
        response["Location"] == reverse("admin:evidence_study_add") + f"?reference={reference.pk}"
    )
    assert reference.status == ReviewStatus.DRAFT


def test_a_refused_reference_stays_on_its_form_with_the_button(client, curator):
    taken = Reference.objects.exclude(doi="").order_by("pk").first()
    response = client.post(
        reverse("admin:references_reference_add"),
        reference_form_data(_addstudy="1", doi=taken.doi),
    )
    assert response.status_code == 200
    assert "Another reference already has this DOI" in response.content.decode()
    assert not Reference.objects.filter(bibtex_key="new2024").exists()
    assert steps_of(response)[0] == ("Reference", False, True)


def test_a_stored_reference_links_to_a_new_study_from_it(client, curator):
    reference = Reference.objects.order_by("pk").first()
    response = client.get(reverse("admin:references_reference_change", args=[reference.pk]))
    add_url = reverse("admin:evidence_study_add") + f"?reference={reference.pk}"
    assert f'href="{add_url}">Add a study from this reference' in response.content.decode()
    assert steps_of(response)[0] == ("Reference", True, True)


def test_a_reference_the_curator_may_only_view_offers_the_link_not_the_button(client, curator):
    reference = Reference.objects.filter(status=ReviewStatus.PUBLISHED).order_by("pk").first()
    page = client.get(
        reverse("admin:references_reference_change", args=[reference.pk])
    ).content.decode()
    assert "Add a study from this reference</a>" in page
    assert 'name="_addstudy"' not in page


def test_the_study_add_form_has_the_reference_chosen_and_the_trial_beside_it(client, curator):
    reference = Reference.objects.order_by("pk").first()
    response = client.get(reverse("admin:evidence_study_add"), {"reference": reference.pk})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert str(form["reference"].value()) == str(reference.pk)
    first = response.context["adminform"].form.fields
    assert list(first)[:4] == ["key", "label", "reference", "trial"]
    assert steps_of(response) == [
        ("Reference", True, False),
        ("Study", False, True),
        ("Arms & outcomes", False, False),
        ("Provenance / submit for review", False, False),
    ]
    page = response.content.decode()
    # The chosen reference is rendered selected in its autocomplete, and named above the form.
    assert f'<option value="{reference.pk}" selected>' in page
    assert "A study reported by <strong>" in page
    # Arms, outcomes and provenance are on the same page, and the steps point at them.
    for group in ("arms-group", "outcomes-group", "provenance-group"):
        assert f'id="{group}"' in page
    assert 'href="#arms-group"' in page
    assert 'href="#provenance-group"' in page
    # The trial can be added without leaving the form (the related-object popup).
    assert 'id="add_id_trial"' in page


@pytest.mark.parametrize("wanted", ["999999", "abc"])
def test_an_unknown_reference_id_is_dropped_with_a_message(client, curator, wanted):
    response = client.get(reverse("admin:evidence_study_add"), {"reference": wanted})
    assert response.status_code == 200
    assert response.context["adminform"].form["reference"].value() is None
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [f"There is no reference with the id “{wanted}”: choose it below."]


def test_saving_the_new_study_goes_on_to_its_provenance(client, curator):
    reference = Reference.objects.order_by("pk").first()
    data = new_study_data(client, reference, _nextstep="1")
    response = client.post(reverse("admin:evidence_study_add") + f"?reference={reference.pk}", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    study = Study.objects.get(key="path-test-study")
    assert response["Location"] == (
        reverse("admin:evidence_study_change", args=[study.pk]) + "#provenance-group"
    )
    assert study.reference == reference
    assert study.status == ReviewStatus.DRAFT
    assert list(study.arms.values_list("label", flat=True)) == ["Treated"]
    # The change form is now at step 4 (arms exist), offering the review.
    response = client.get(response["Location"])
    assert steps_of(response) == [
        ("Reference", True, False),
        ("Study", True, False),
        ("Arms & outcomes", True, False),
        ("Provenance / submit for review", False, True),
    ]
    assert 'name="_toreview"' in response.content.decode()


def test_a_refused_study_keeps_what_was_typed(client, curator):
    reference = Reference.objects.order_by("pk").first()
    data = new_study_data(client, reference, _nextstep="1", level_override="3")
    response = client.post(reverse("admin:evidence_study_add"), data)
    assert response.status_code == 200
    assert not Study.objects.filter(key="path-test-study").exists()
    page = response.content.decode()
    assert 'value="Path test study"' in page
    assert 'value="Treated"' in page


def test_a_study_without_arms_or_outcomes_is_at_step_three(client, curator):
    reference = Reference.objects.order_by("pk").first()
    client.post(reverse("admin:evidence_study_add"), new_study_data(client, reference))
    study = Study.objects.get(key="path-test-study")
    Arm.objects.filter(study=study).delete()
    response = client.get(reverse("admin:evidence_study_change", args=[study.pk]))
    assert [s.current for s in response.context["paper_steps"]] == [False, False, True, False]


def test_save_and_submit_goes_to_the_review_page(client, curator):
    reference = Reference.objects.order_by("pk").first()
    client.post(reverse("admin:evidence_study_add"), new_study_data(client, reference))
    study = Study.objects.get(key="path-test-study")
    url = reverse("admin:evidence_study_change", args=[study.pk])
    data = change_form_data(client, url)
    data["_toreview"] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("admin:evidence_study_review", args=[study.pk])
    # The review page is where the submit happens (the workflow's own checks and buttons).
    assert client.get(response["Location"]).status_code == 200
    study.refresh_from_db()
    assert study.status == ReviewStatus.DRAFT


def test_a_submitted_study_offers_no_submit_button(client, curator):
    study = Study.objects.filter(provenance__isnull=False).order_by("pk").first()
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.SUBMITTED)
    response = client.get(reverse("admin:evidence_study_change", args=[study.pk]))
    assert 'name="_toreview"' not in response.content.decode()
    assert response.context["paper_steps"][3].done


def test_the_outcomes_inline_shows_the_results_per_arm(client, editor):
    result = OutcomeArmResult.objects.select_related("outcome", "arm").order_by("pk").first()
    response = client.get(reverse("admin:evidence_study_change", args=[result.outcome.study_id]))
    assert str(result) in response.content.decode()


def test_the_provenance_and_outcomes_inlines_stay_on_the_study_form(client, curator):
    study = Provenance.objects.order_by("pk").first().study
    response = client.get(reverse("admin:evidence_study_change", args=[study.pk]))
    prefixes = [f.formset.prefix for f in response.context["inline_admin_formsets"]]
    assert {"arms", "outcomes", "provenance"} <= set(prefixes)
    assert Outcome.objects.filter(study=study).count() == len(
        next(
            f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "outcomes"
        ).formset.initial_forms
    )
