"""Two people editing the same entry in the admin: the second save is refused with a clear
message (who, when, a link to the history), keeps what they typed, and goes through only when
they save again on purpose. (The API refuses stale writes with 412: tests/core/test_api_writes.)"""

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.forms import JSONField
from django.test import Client
from django.urls import reverse

from core import workflow
from core.admin_concurrency import OPENED_FIELD
from core.choices import ReviewStatus
from core.workflow import CURATORS, EDITORS
from evidence.models import DiseaseSubtype, Study
from references.models import Author, Reference
from tests.factories import staff
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """The change form as displayed (with its inlines), ready to post back."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update(
            {
                f"{management.prefix}-{name}": str(management[name].value())
                for name in management.fields
            }
        )
        forms.extend(inline.formset.forms)
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            if isinstance(form.fields[name], JSONField) and name in form.initial:
                # The JSON text a browser posts back (value() would be encoded once more).
                value = json.dumps(form.initial[name])
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            key = form.add_prefix(name)
            data[key] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    return data


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def alice():
    return logged_in(staff("alice", CURATORS))


@pytest.fixture
def bob():
    return logged_in(staff("bob", EDITORS))


@pytest.fixture
def study():
    study = Study.objects.filter(outcomes__isnull=False).order_by("pk").first()
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    return study


def change_url(obj) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_the_change_form_carries_the_time_it_was_opened(alice, study):
    response = alice.get(change_url(study))
    assert f'<input type="hidden" name="{OPENED_FIELD}"'.encode() in response.content
    study.refresh_from_db()
    assert response.context["adminform"].form[OPENED_FIELD].value() == study.modified.isoformat()


def test_a_save_over_someone_elses_change_is_refused_and_keeps_the_input(alice, bob, study):
    url = change_url(study)
    alices = form_data(alice.get(url))  # Alice opens the study...
    bobs = form_data(bob.get(url))  # ...so does Bob, who saves first.
    bobs["summary"] = "Bob's summary."
    assert bob.post(url, bobs).status_code == 302

    alices["summary"] = "Alice's summary."
    alices["comparator"] = "placebo (Alice)"
    response = alice.post(url, alices)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    message = errors[0]
    # Bob's save also rewrote inline rows (it re-saves the provenance): each is named too.
    assert all("after you opened this form" in str(error) for error in errors[1:]), list(errors)
    assert "was changed by bob at " in message and "your changes have not been saved" in message
    history = reverse("admin:evidence_study_history", args=[study.pk])
    assert f'href="{history}"' in message
    page = response.content.decode()
    assert "Alice&#x27;s summary." in page and "placebo (Alice)" in page  # her input is kept
    study.refresh_from_db()
    assert study.summary == "Bob's summary."  # Bob's change is intact
    assert study.comparator != "placebo (Alice)"


def test_saving_again_after_the_warning_is_a_deliberate_overwrite(alice, bob, study):
    url = change_url(study)
    alices = form_data(alice.get(url))
    bobs = form_data(bob.get(url))
    bobs["summary"] = "Bob's summary."
    bob.post(url, bobs)
    alices["summary"] = "Alice's summary."
    refused = alice.post(url, alices)
    again = form_data(refused)  # the form as shown with the warning, hidden value updated
    assert again["summary"] == "Alice's summary."
    assert alice.post(url, again).status_code == 302
    study.refresh_from_db()
    assert study.summary == "Alice's summary."


def test_a_workflow_transition_meanwhile_also_counts_as_a_change(alice, bob, study):
    url = change_url(study)
    alices = form_data(alice.get(url))
    workflow.submit(study, user=User.objects.get(username="bob"))
    alices["summary"] = "Alice's summary."
    response = alice.post(url, alices)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()


def test_saves_without_a_concurrent_change_go_through(alice, study):
    url = change_url(study)
    data = form_data(alice.get(url))
    data["summary"] = "First edit."
    assert alice.post(url, data).status_code == 302
    data = form_data(alice.get(url))  # reopened: a fresh stamp
    data["summary"] = "Second edit."
    assert alice.post(url, data).status_code == 302
    study.refresh_from_db()
    assert study.summary == "Second edit."


@pytest.mark.parametrize(
    "get_obj, field, value",
    [
        (lambda: DiseaseSubtype.objects.get(code="dm"), "description", "Edited."),
        (lambda: Therapy.objects.get(slug="rituximab"), "review_summary", "Edited."),
        (lambda: Reference.objects.get(number=2), "notes", "Edited."),
    ],
)
def test_every_content_admin_checks(bob, get_obj, field, value):
    obj = get_obj()
    url = change_url(obj)
    data = form_data(bob.get(url))
    type(obj).objects.filter(pk=obj.pk).update(modified=obj.modified.replace(year=2030))
    data[field] = value
    response = bob.post(url, data)
    assert response.status_code == 200
    assert "after you opened it" in str(response.context["adminform"].form.non_field_errors())


def test_a_model_without_timestamps_is_left_alone(bob):
    author = Author.objects.filter(reference__number=2).first()
    response = bob.get(change_url(author))
    assert response.status_code == 200
    assert OPENED_FIELD.encode() not in response.content


def test_a_read_only_view_shows_no_stamp(client):
    viewer = staff("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_study"))
    client.force_login(viewer)
    study = Study.objects.order_by("pk").first()
    response = client.get(change_url(study))
    assert response.status_code == 200
    assert OPENED_FIELD.encode() not in response.content


def outcome_of(study):
    return study.outcomes.order_by("pk").first()


def test_an_outcome_changed_elsewhere_is_not_reverted_by_an_older_study_form(alice, bob, study):
    """Issue 12: Alice opens the study; Bob edits one of its outcomes on the outcome's own
    page; Alice saves the study form. Today the outcome edit is silently reverted."""
    url = change_url(study)
    alices = form_data(alice.get(url))
    outcome = outcome_of(study)
    bobs = form_data(bob.get(change_url(outcome)))
    bobs["timepoint"] = "week 52 (Bob)"
    assert bob.post(change_url(outcome), bobs).status_code == 302

    alices["summary"] = "Alice's summary."
    response = alice.post(url, alices)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert len(errors) == 1
    assert f"Outcome '{str(outcome)[:20]}" in errors[0]
    assert "was changed by bob at " in errors[0] and "nothing has been saved" in errors[0]
    outcome.refresh_from_db()
    study.refresh_from_db()
    assert outcome.timepoint == "week 52 (Bob)"  # Bob's edit survives
    assert study.summary != "Alice's summary."  # and nothing of Alice's form was saved


def test_an_outcome_changed_through_the_api_also_refuses_the_study_form(alice, study):
    from evidence.models import Outcome

    url = change_url(study)
    alices = form_data(alice.get(url))
    outcome = outcome_of(study)
    Outcome.objects.filter(pk=outcome.pk).update(
        timepoint="API", modified=outcome.modified.replace(year=2031)
    )
    response = alice.post(url, alices)
    assert response.status_code == 200
    assert "Outcome '" in " ".join(response.context["adminform"].form.non_field_errors())
    outcome.refresh_from_db()
    assert outcome.timepoint == "API"


def test_an_outcome_deleted_elsewhere_is_named(alice, study):
    url = change_url(study)
    alices = form_data(alice.get(url))
    outcome_of(study).delete()
    response = alice.post(url, alices)
    assert response.status_code == 200
    assert "was deleted by" in str(response.context["adminform"].form.non_field_errors())


def test_an_author_changed_elsewhere_refuses_the_reference_form(bob):
    reference = Reference.objects.get(number=2)
    url = change_url(reference)
    data = form_data(bob.get(url))
    author = reference.authors.order_by("pk").first()
    author.given = author.given + " (edited)"
    author.save()
    response = bob.post(url, data)
    assert response.status_code == 200
    assert "Author '" in " ".join(response.context["adminform"].form.non_field_errors())
    author.refresh_from_db()
    assert author.given.endswith("(edited)")


def test_a_damaged_row_record_is_refused(alice, study):
    url = change_url(study)
    data = form_data(alice.get(url))
    data["concurrency_rows"] = "[not json"
    response = alice.post(url, data)
    assert response.status_code == 200
    assert "damaged" in str(response.context["adminform"].form.non_field_errors())
