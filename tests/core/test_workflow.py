"""The editorial workflow (core/workflow.py): who may submit, publish, reject and withdraw, what
is recorded, and that only published content reaches the public pages."""

import pytest
from django.contrib.auth.models import Group, User

from core import workflow
from core.choices import ReviewStatus
from core.workflow import CURATORS, EDITORS, WorkflowError
from evidence.models import Statement, Study
from references.models import Reference
from tests.factories import staff
from therapies.models import Therapy

pytestmark = pytest.mark.django_db

DRAFT, SUBMITTED, PUBLISHED = ReviewStatus.DRAFT, ReviewStatus.SUBMITTED, ReviewStatus.PUBLISHED


@pytest.fixture
def draft():
    """Reference 60 of the corpus, put back to draft."""
    reference = Reference.objects.get(number=60)
    Reference.objects.filter(pk=reference.pk).update(status=DRAFT)
    reference.refresh_from_db()
    return reference


def test_the_groups_have_their_model_permissions():
    curators = {p.codename for p in Group.objects.get(name=CURATORS).permissions.all()}
    editors = {p.codename for p in Group.objects.get(name=EDITORS).permissions.all()}
    assert {
        "add_reference",
        "change_reference",
        "view_reference",
        "change_study",
        "add_statement",
        "view_therapy",
    } <= curators
    assert "delete_reference" not in curators and "delete_study" not in curators
    # Rows that are part of an entry: removing one is editing the entry.
    assert {"delete_author", "delete_outcome", "delete_provenance"} <= curators
    assert {"delete_reference", "delete_study", "delete_statement", "delete_therapy"} <= editors


def test_submit_records_who_and_when_in_the_entry_and_its_history(curator, draft):
    workflow.submit(draft, user=curator)
    draft.refresh_from_db()
    assert draft.status == SUBMITTED
    assert draft.submitted_by == curator and draft.submitted_at is not None
    record = draft.history.first()
    assert record.history_user == curator
    assert record.history_change_reason == "Submitted for review"


def test_a_curator_cannot_publish(curator, draft):
    workflow.submit(draft, user=staff("other", CURATORS))
    with pytest.raises(WorkflowError, match="Only editors"):
        workflow.publish(draft, user=curator, comment="Looks fine")
    draft.refresh_from_db()
    assert draft.status == SUBMITTED


def test_an_editor_publishes_with_a_comment_and_it_is_recorded(curator, editor, draft):
    workflow.submit(draft, user=curator)
    with pytest.raises(WorkflowError, match="Give a comment"):
        workflow.publish(draft, user=editor, comment="  ")
    workflow.publish(draft, user=editor, comment="Checked against PubMed.")
    draft.refresh_from_db()
    assert draft.status == PUBLISHED
    assert draft.reviewed_by == editor and draft.reviewed_at is not None
    assert draft.review_comment == "Checked against PubMed."
    record = draft.history.first()
    assert (record.history_user, record.history_change_reason) == (
        editor,
        "Published: Checked against PubMed.",
    )


def test_nobody_publishes_their_own_submission_except_a_superuser(editor, draft):
    workflow.submit(draft, user=editor)
    with pytest.raises(WorkflowError, match="another editor must publish it"):
        workflow.publish(draft, user=editor, comment="Mine")
    assert workflow.allowed_actions(draft, editor) == ["reject"]
    root = User.objects.create_superuser("root", "root@example.org", None)
    workflow.reject(draft, user=editor, comment="Back to you")
    workflow.submit(draft, user=root)
    workflow.publish(draft, user=root, comment="Superusers may")
    assert draft.status == PUBLISHED


def test_reject_then_resubmit(curator, editor, draft):
    workflow.submit(draft, user=curator)
    workflow.reject(draft, user=editor, comment="The DOI belongs to another article.")
    draft.refresh_from_db()
    assert draft.status == ReviewStatus.REJECTED
    assert draft.review_comment == "The DOI belongs to another article."
    workflow.submit(draft, user=curator)
    assert draft.status == SUBMITTED


def test_withdraw_needs_an_editor_and_a_comment(curator, editor):
    # A reference that no published study or statement shows (those are refused, see below).
    reference = (
        Reference.objects.filter(status=PUBLISHED, studies__isnull=True, statements__isnull=True)
        .order_by("number")
        .first()
    )
    with pytest.raises(WorkflowError, match="Only editors"):
        workflow.withdraw(reference, user=curator, comment="x")
    with pytest.raises(WorkflowError, match="Give a comment"):
        workflow.withdraw(reference, user=editor, comment="")
    workflow.withdraw(reference, user=editor, comment="Retracted by the journal.")
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.WITHDRAWN
    assert workflow.allowed_actions(reference, curator) == ["submit"]


@pytest.mark.parametrize(
    "action, status, message",
    [
        ("publish", DRAFT, "Only a submitted entry can be published; this reference is a draft."),
        (
            "withdraw",
            SUBMITTED,
            "Only a published entry can be withdrawn; this reference is submitted for review.",
        ),
        (
            "reject",
            PUBLISHED,
            "Only a submitted entry can be rejected; this reference is published.",
        ),
    ],
)
def test_transitions_from_the_wrong_status_say_why(editor, draft, action, status, message):
    Reference.objects.filter(pk=draft.pk).update(status=status)
    with pytest.raises(WorkflowError) as info:
        workflow.TRANSITIONS[action](draft, user=editor, comment="because")
    assert str(info.value) == message


def test_submitting_a_published_entry_is_refused(curator):
    with pytest.raises(WorkflowError, match="Only a draft, rejected or withdrawn entry"):
        workflow.submit(Reference.objects.get(number=1), user=curator)


def test_who_may_edit(curator, editor, draft):
    published = Reference.objects.get(number=1)
    outsider = User.objects.create_user("outsider", is_staff=True)
    assert workflow.can_edit(curator) and workflow.can_edit(curator, draft)
    assert not workflow.can_edit(curator, published)
    assert workflow.can_edit(editor, published)
    assert not workflow.can_edit(outsider) and not workflow.can_edit(None)
    assert workflow.can_publish(editor) and not workflow.can_publish(curator)
    inactive = staff("gone", EDITORS, is_active=False)
    assert not workflow.can_publish(inactive)


@pytest.mark.parametrize("model", [Study, Statement, Therapy])
def test_every_reviewed_model_follows_the_same_workflow(model, curator, editor):
    obj = model.objects.order_by("pk").first()
    model.objects.filter(pk=obj.pk).update(status=DRAFT)
    obj.refresh_from_db()
    workflow.submit(obj, user=curator)
    workflow.publish(obj, user=editor, comment="Verified.")
    obj.refresh_from_db()
    assert (obj.status, obj.reviewed_by, obj.submitted_by) == (PUBLISHED, editor, curator)


def _pages(client, url: str) -> str:
    """All pages of a paginated list, concatenated."""
    text, page = "", 1
    while page < 20:
        response = client.get(url, {"page": page})
        if response.status_code != 200:
            break
        text += response.content.decode()
        page += 1
    return text


@pytest.fixture
def drafts():
    """One draft of each public kind: a numbered reference, a study and a therapy."""
    reference = Reference.objects.get(number=60)
    study = Study.objects.order_by("pk").first()
    therapy = Therapy.objects.get(slug="rituximab")
    for obj in (reference, study, therapy):
        type(obj).objects.filter(pk=obj.pk).update(status=DRAFT)
    return reference, study, therapy


def test_anonymous_readers_see_no_drafts(client, drafts):
    reference, study, therapy = drafts
    assert client.get("/references/60/").status_code == 404
    assert client.get(f"/studies/{study.pk}/").status_code == 404
    assert client.get("/therapies/rituximab/").status_code == 404
    assert 'href="/references/60/"' not in _pages(client, "/references/")
    assert f'href="/studies/{study.pk}/"' not in _pages(client, "/studies/")
    assert 'href="/therapies/rituximab/"' not in _pages(client, "/therapies/")
    # The published neighbours are there, so the lists were really read.
    assert 'href="/references/59/"' in _pages(client, "/references/")


def test_published_again_they_are_public(client, drafts, curator, editor):
    reference, study, therapy = drafts
    for obj in (therapy, reference, study):  # what a study shows is published before it
        workflow.submit(obj, user=curator)
        workflow.publish(obj, user=editor, comment="Back")
    assert client.get("/references/60/").status_code == 200
    assert client.get(f"/studies/{study.pk}/").status_code == 200
    assert client.get("/therapies/rituximab/").status_code == 200
    assert f'href="/studies/{study.pk}/"' in _pages(client, "/studies/")


def test_staff_see_drafts_on_the_pages(client, drafts, curator):
    client.force_login(curator)
    assert client.get("/references/60/").status_code == 200


# -- what readers see of one entry through another --------------------------------------------


def _submitted_draft(obj, curator):
    type(obj).objects.filter(pk=obj.pk).update(status=DRAFT)
    obj.refresh_from_db()
    workflow.submit(obj, user=curator)
    return obj


def _withdrawn(obj, editor):
    workflow.withdraw(obj, user=editor, comment="Under correction")
    obj.refresh_from_db()
    return obj


def test_a_study_is_published_only_after_its_reference_and_therapies(curator, editor):
    study = Study.objects.filter(therapies__slug="rituximab").order_by("pk").first()
    _submitted_draft(study, curator)
    reference = _submitted_draft(study.reference, curator)
    therapy = _submitted_draft(Therapy.objects.get(slug="rituximab"), curator)
    with pytest.raises(WorkflowError, match="publish them first") as refused:
        workflow.publish(study, user=editor, comment="Checked")
    message = str(refused.value)
    assert "the reference" in message and 'the therapy "Rituximab"' in message
    study.refresh_from_db()
    assert study.status == SUBMITTED  # nothing changed
    workflow.publish(reference, user=editor, comment="Checked")
    with pytest.raises(WorkflowError, match="Rituximab"):
        workflow.publish(study, user=editor, comment="Checked")
    workflow.publish(therapy, user=editor, comment="Checked")
    workflow.publish(study, user=editor, comment="Checked")
    study.refresh_from_db()
    assert study.status == PUBLISHED


def test_a_statement_waits_for_the_studies_it_cites(curator, editor):
    statement = Statement.objects.filter(studies__isnull=False).order_by("pk").first()
    cited = statement.studies.order_by("pk").first()
    _submitted_draft(statement, curator)
    _submitted_draft(cited, curator)
    with pytest.raises(WorkflowError, match="publish them first"):
        workflow.publish(statement, user=editor, comment="Checked")
    workflow.publish(cited, user=editor, comment="Checked")
    workflow.publish(statement, user=editor, comment="Checked")


def test_a_reference_shown_by_published_studies_is_not_withdrawn(editor):
    reference = Reference.objects.filter(studies__status=PUBLISHED).order_by("pk").first()
    studies = list(reference.studies.published())
    with pytest.raises(WorkflowError, match="withdraw them") as refused:
        workflow.withdraw(reference, user=editor, comment="Retracted")
    assert "the study" in str(refused.value)
    reference.refresh_from_db()
    assert reference.status == PUBLISHED
    for statement in reference.statements.published():
        _withdrawn(statement, editor)
    for study in studies:
        for statement in study.statements.published():
            _withdrawn(statement, editor)
        _withdrawn(study, editor)
    assert _withdrawn(reference, editor).status == ReviewStatus.WITHDRAWN


def test_a_therapy_with_published_studies_is_not_withdrawn(editor):
    therapy = Therapy.objects.get(slug="rituximab")
    with pytest.raises(WorkflowError, match="and \\d+ more"):  # many: the list is cut short
        workflow.withdraw(therapy, user=editor, comment="Renamed")
    therapy.refresh_from_db()
    assert therapy.status == PUBLISHED
