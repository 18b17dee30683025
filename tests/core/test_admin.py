"""The editorial admin: review queue, review page, bulk workflow actions, history and revert."""

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from core import workflow
from core.choices import ReviewStatus
from core.workflow import CURATORS, EDITORS
from evidence.models import Arm, Outcome, OutcomeArmResult, Study
from references.models import Author, Reference
from tests.factories import staff
from therapies.models import Therapy

pytestmark = pytest.mark.django_db

QUEUE = "/admin/review-queue/"


def post_data(form) -> dict:
    """What a browser would post for an unbound admin form as displayed."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            value = "on"
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
    return data


def revert(client, url: str) -> str:
    """Open a version's page and revert to it; the page's text (its comparison)."""
    page = client.get(url)
    response = client.post(url, post_data(page.context["adminform"].form))
    assert response.status_code == 302
    return page.content.decode()


def submitted(obj, user, *, ago: timedelta):
    workflow.submit(obj, user=user)
    type(obj).objects.filter(pk=obj.pk).update(submitted_at=timezone.now() - ago)
    obj.refresh_from_db()
    return obj


@pytest.fixture
def waiting(curator):
    """A reference submitted three days ago and a study submitted an hour ago."""
    reference = Reference.objects.get(number=60)
    study = Study.objects.order_by("pk").first()
    for obj in (reference, study):
        type(obj).objects.filter(pk=obj.pk).update(status=ReviewStatus.DRAFT)
        obj.refresh_from_db()
    return (
        submitted(reference, curator, ago=timedelta(days=3)),
        submitted(study, curator, ago=timedelta(hours=1)),
    )


# -- the review queue --------------------------------------------------------------------------


def test_the_queue_lists_what_waits_oldest_first(client, editor, waiting):
    reference, study = waiting
    client.force_login(editor)
    page = client.get(QUEUE).content.decode()
    assert page.index(reference.title[:40]) < page.index(study.label)
    assert reverse("admin:references_reference_review", args=[reference.pk]) in page
    assert ">Review<" in page


def test_curators_may_look_at_the_queue_but_others_may_not(client, curator, waiting):
    client.force_login(curator)
    page = client.get(QUEUE).content.decode()
    assert "Only editors can publish or reject them" in page and ">View<" in page
    client.force_login(User.objects.create_user("visitor", is_staff=True))
    assert client.get(QUEUE).status_code == 403
    client.logout()
    assert client.get(QUEUE).status_code == 302  # to the admin login


def test_the_admin_index_links_the_queue(client, editor):
    client.force_login(editor)
    assert QUEUE in client.get("/admin/").content.decode()


# -- the review page ---------------------------------------------------------------------------


def test_an_editor_publishes_from_the_review_page_with_a_comment(client, editor, waiting):
    reference, _ = waiting
    client.force_login(editor)
    url = reverse("admin:references_reference_review", args=[reference.pk])
    page = client.get(url).content.decode()
    assert 'value="publish"' in page and 'value="reject"' in page
    refused = client.post(url, {"action": "publish", "comment": ""})
    assert "Give a comment" in refused.content.decode()
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.SUBMITTED
    version = re.search(r'name="version" value="([^"]*)"', page).group(1)
    done = client.post(
        url,
        {
            "action": "publish",
            "comment": "Checked",
            "next": QUEUE,
            "version": html.unescape(version),
        },
    )
    assert done.status_code == 302 and done["Location"] == QUEUE
    reference.refresh_from_db()
    assert (reference.status, reference.reviewed_by, reference.review_comment) == (
        ReviewStatus.PUBLISHED,
        editor,
        "Checked",
    )


def test_a_curator_cannot_publish_from_the_review_page(client, curator, waiting):
    reference, _ = waiting
    client.force_login(curator)
    url = reverse("admin:references_reference_review", args=[reference.pk])
    assert 'value="publish"' not in client.get(url).content.decode()
    response = client.post(url, {"action": "publish", "comment": "Sneaky"})
    assert "Only editors" in response.content.decode()
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.SUBMITTED


def test_the_review_page_shows_changes_since_publication(client, editor):
    # A reference no published study or statement shows, so that it can be withdrawn.
    reference = (
        Reference.objects.filter(status="published", studies__isnull=True, statements__isnull=True)
        .order_by("number")
        .first()
    )
    workflow.withdraw(reference, user=editor, comment="Fix the pages")
    reference.pages = "1-99"
    reference.save()
    client.force_login(editor)
    page = client.get(reverse("admin:references_reference_review", args=[reference.pk]))
    text = page.content.decode()
    assert "Changes since it was last published" in text and "1-99" in text


# -- bulk actions ------------------------------------------------------------------------------


def test_bulk_publish_asks_for_a_comment_first(client, editor, waiting):
    reference, _ = waiting
    client.force_login(editor)
    url = reverse("admin:references_reference_changelist")
    data = {"action": "publish_selected", "_selected_action": [reference.pk]}
    page = client.post(url, data)
    assert page.status_code == 200 and "give your comment" in page.content.decode()
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.SUBMITTED
    client.post(url, {**data, "apply": "yes", "comment": "Batch review"})
    reference.refresh_from_db()
    assert (reference.status, reference.review_comment) == (ReviewStatus.PUBLISHED, "Batch review")


def test_curators_submit_in_bulk_and_are_not_offered_publishing(client, curator):
    drafts = list(Therapy.objects.order_by("pk")[:2])
    Therapy.objects.filter(pk__in=[t.pk for t in drafts]).update(status=ReviewStatus.DRAFT)
    client.force_login(curator)
    url = reverse("admin:therapies_therapy_changelist")
    assert "publish_selected" not in client.get(url).content.decode()
    client.post(url, {"action": "submit_selected", "_selected_action": [t.pk for t in drafts]})
    assert set(
        Therapy.objects.filter(pk__in=[t.pk for t in drafts]).values_list("status", flat=True)
    ) == {ReviewStatus.SUBMITTED}


# -- history, comparison and revert ------------------------------------------------------------


@pytest.fixture
def edited_reference(client, curator):
    """A draft reference created with one author, then changed in the admin by the curator."""
    reference = Reference.objects.create(title="First title", bibtex_key="hist2024", year=2024)
    Author.objects.create(reference=reference, position=1, family="Curie", given="M")
    reference.refresh_first_author()
    client.force_login(curator)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    form = client.get(url).context["adminform"].form
    author = reference.authors.get()
    data = {
        **post_data(form),
        "title": "Second title",
        "authors-TOTAL_FORMS": "2",
        "authors-INITIAL_FORMS": "1",
        "authors-MIN_NUM_FORMS": "0",
        "authors-MAX_NUM_FORMS": "1000",
        "authors-0-id": str(author.pk),
        "authors-0-reference": str(reference.pk),
        "authors-0-position": "1",
        "authors-0-family": "Sklodowska",
        "authors-0-given": "M",
        "authors-1-position": "2",
        "authors-1-family": "Langevin",
        "authors-1-given": "P",
        "studies-TOTAL_FORMS": "0",
        "studies-INITIAL_FORMS": "0",
        "studies-MIN_NUM_FORMS": "0",
        "studies-MAX_NUM_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    reference.refresh_from_db()
    assert reference.title == "Second title" and reference.first_author == "Sklodowska"
    return reference


def test_the_history_says_who_changed_what(client, curator, edited_reference):
    page = client.get(
        reverse("admin:references_reference_history", args=[edited_reference.pk])
    ).content.decode()
    assert "curator" in page
    assert "First title" in page and "Second title" in page  # the diff of the change


def test_a_version_is_compared_with_the_current_entry_and_reverted(
    client, curator, edited_reference
):
    first = edited_reference.history.earliest()
    url = reverse(
        "admin:references_reference_simple_history", args=[edited_reference.pk, first.history_id]
    )
    text = revert(client, url)
    assert "compared with the current entry" in text
    assert "First title" in text and "Second title" in text
    assert "Curie M" in text and "Sklodowska M; Langevin P" in text  # the authors then and now
    edited_reference.refresh_from_db()
    assert edited_reference.title == "First title"
    assert [(a.position, a.family) for a in edited_reference.ordered_authors] == [(1, "Curie")]
    assert edited_reference.first_author == "Curie"
    assert edited_reference.status == ReviewStatus.DRAFT
    latest = edited_reference.history.first()
    assert latest.history_change_reason.startswith("Reverted to the version of")
    assert latest.history_user == curator


def test_reverting_keeps_the_review_status(client, editor, edited_reference):
    workflow.submit(edited_reference, user=staff("other", CURATORS))
    workflow.publish(edited_reference, user=editor, comment="Fine")
    first = edited_reference.history.earliest()  # a draft version
    client.force_login(editor)
    url = reverse(
        "admin:references_reference_simple_history", args=[edited_reference.pk, first.history_id]
    )
    client.post(url, post_data(client.get(url).context["adminform"].form))
    edited_reference.refresh_from_db()
    assert edited_reference.title == "First title"
    assert edited_reference.status == ReviewStatus.PUBLISHED
    assert edited_reference.reviewed_by == editor


def test_a_curator_cannot_revert_a_published_entry(client, curator):
    reference = Reference.objects.get(number=3)
    reference.title = "Vandalised"
    reference._history_user = staff("editor2", EDITORS)
    reference.save()
    first = reference.history.earliest()
    client.force_login(curator)
    url = reverse(
        "admin:references_reference_simple_history", args=[reference.pk, first.history_id]
    )
    page = client.get(url)
    assert page.status_code == 200 and 'value="Revert"' not in page.content.decode()
    assert client.post(url, post_data(page.context["adminform"].form)).status_code == 403
    reference.refresh_from_db()
    assert reference.title == "Vandalised"


def test_reverting_a_study_restores_its_therapies_and_outcomes(client, editor):
    study = Study.objects.filter(outcomes__isnull=False).order_by("pk").first()
    before_therapies = set(study.therapies.values_list("pk", flat=True))
    before_outcomes = list(study.outcomes.values_list("pk", "value"))
    study.save()  # a version to come back to, after the loader's rows
    version = study.history.first()
    other = Therapy.objects.exclude(pk__in=before_therapies).first()
    study.therapies.set([other])
    outcome = study.outcomes.first()
    outcome.value = "changed"
    outcome.save()
    Outcome.objects.create(study=study, measure="other", value="added later")
    study.label = "Changed label"
    study.save()
    client.force_login(editor)
    url = reverse("admin:evidence_study_simple_history", args=[study.pk, version.history_id])
    assert "added later" in revert(client, url)  # the comparison lists the outcomes
    study.refresh_from_db()
    assert study.label != "Changed label"
    assert set(study.therapies.values_list("pk", flat=True)) == before_therapies
    assert list(study.outcomes.values_list("pk", "value")) == before_outcomes


def arm_results_of(study) -> list:
    return sorted(
        OutcomeArmResult.objects.filter(outcome__study=study).values_list(
            "pk", "outcome_id", "arm_id", "responders", "n", "value"
        )
    )


def test_reverting_a_study_keeps_the_per_arm_results_of_the_rows_it_recreates(client, editor):
    """A revert re-creates a changed outcome or arm with its old id; deleting it took its
    per-arm results with it, and nothing brought them back."""
    study = (
        Study.objects.filter(outcomes__arm_results__isnull=False).distinct().order_by("pk").first()
    )
    before = arm_results_of(study)
    assert before
    study.save()  # a version to come back to, after the loader's rows
    version = study.history.first()
    study.label = "Changed label"
    study.save()
    outcome = study.outcomes.filter(arm_results__isnull=False).first()
    outcome.description += " (edited)"
    outcome.save()
    result = outcome.arm_results.order_by("pk").first()
    result.value = "edited"
    result.save()
    # An arm deleted since: its results went with it, and the comparison still names them.
    Arm.objects.filter(results__outcome__study=study).exclude(results=result).first().delete()
    client.force_login(editor)
    url = reverse("admin:evidence_study_simple_history", args=[study.pk, version.history_id])
    assert "Per-arm results" in revert(client, url)  # the comparison lists them
    study.refresh_from_db()
    assert study.label != "Changed label"
    assert not study.outcomes.filter(description__endswith="(edited)").exists()
    assert arm_results_of(study) == before


def test_reverting_an_outcome_restores_its_per_arm_results(client, editor):
    outcome = Outcome.objects.filter(arm_results__isnull=False).distinct().order_by("pk").first()
    before = arm_results_of(outcome.study)
    outcome.save()
    version = outcome.history.first()
    outcome.value = "changed"
    outcome.save()
    changed = outcome.arm_results.order_by("pk").last()
    changed.value = "changed too"
    changed.save()
    outcome.arm_results.order_by("pk").first().delete()
    client.force_login(editor)
    url = reverse("admin:evidence_outcome_simple_history", args=[outcome.pk, version.history_id])
    assert "Per-arm results" in revert(client, url)  # the comparison lists them
    outcome.refresh_from_db()
    assert outcome.value != "changed"
    assert arm_results_of(outcome.study) == before
