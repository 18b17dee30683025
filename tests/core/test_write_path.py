"""One write path (issue 15): the admin, the API, the importer and the loader all write through
the services in ``core.services``, so a rule kept there holds at every entry point: the
published-shows-published invariant is refused before anything is written, and the history
records who wrote and through which route (the change reason)."""

import json
import shutil

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from core.choices import ReviewStatus
from core.invariants import InvariantError
from core.models import Contribution
from core.services import attributed, save_changes, set_links
from core.workflow import EDITORS
from evidence.models import Outcome, Study
from evidence.services.curation import LOADED
from references.importer import import_bibtex
from references.models import Author, Reference
from tests.evidence.test_admin import study_post_data
from tests.factories import client_for, staff
from therapies.models import Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


def latest(model, pk):
    return model.history.filter(id=pk).order_by("-history_id").first()


def contributed(user, entry) -> bool:
    return Contribution.objects.filter(
        content_type=ContentType.objects.get_for_model(type(entry)),
        object_id=entry.pk,
        user=user,
    ).exists()


def published_study_and_draft_therapy() -> tuple[Study, Therapy]:
    """A published study, and a therapy it does not show set back to draft (around the
    services, as a test may)."""
    study = Study.objects.published().order_by("pk").first()
    therapy = Therapy.objects.exclude(pk__in=study.therapies.all()).order_by("pk").first()
    Therapy.objects.filter(pk=therapy.pk).update(status=ReviewStatus.DRAFT)
    therapy.refresh_from_db()
    return study, therapy


# -- the services themselves -------------------------------------------------------------------


def test_the_service_refuses_a_published_entry_showing_a_draft_before_writing():
    study, therapy = published_study_and_draft_therapy()
    records = Study.history.count()
    with pytest.raises(InvariantError, match="not published yet"), transaction.atomic():
        set_links(study, links={"therapies": [*study.therapies.all(), therapy]})
    assert therapy not in study.therapies.all()
    assert Study.history.count() == records


def test_rows_written_by_a_nested_service_keep_the_callers_user_and_reason():
    user = staff("nested", EDITORS)
    study = Study.objects.filter(outcomes__isnull=False).order_by("pk").first()
    outcome = study.outcomes.order_by("pk").first()
    with attributed(user=user, reason="Outer reason"), attributed(reason=None):
        save_changes(outcome, {"value": "written in a nested service"})
    record = latest(Outcome, outcome.pk)
    assert (record.history_user, record.history_change_reason) == (user, "Outer reason")
    assert contributed(user, study)  # the four-eyes rule sees the user as an author


# -- the admin ---------------------------------------------------------------------------------


def test_an_admin_save_goes_through_the_services(client):
    editor = staff("admin-editor", EDITORS)
    client.force_login(editor)
    study = Study.objects.filter(outcomes__isnull=False).order_by("pk").first()
    data = study_post_data(client, study)
    data["summary"] = "Changed in the admin by the write-path test."
    first_outcome = next(k for k in data if k.endswith("-0-value") and "outcome" in k)
    data[first_outcome] = "changed inline"
    response = client.post(reverse("admin:evidence_study_change", args=[study.pk]), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    record = latest(Study, study.pk)
    assert record.summary == data["summary"]
    assert (record.history_user, record.history_change_reason) == (editor, "Changed in the admin")
    outcome = study.outcomes.get(value="changed inline")
    assert latest(Outcome, outcome.pk).history_change_reason == "Changed in the admin"


def test_an_admin_delete_goes_through_the_services(client):
    editor = staff("admin-deleter", EDITORS)
    client.force_login(editor)
    outcome = Outcome.objects.order_by("pk").first()
    response = client.post(
        reverse("admin:evidence_outcome_delete", args=[outcome.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Outcome.objects.filter(pk=outcome.pk).exists()
    record = latest(Outcome, outcome.pk)
    assert record.history_type == "-"
    assert (record.history_user, record.history_change_reason) == (editor, "Deleted in the admin")


# -- the API -----------------------------------------------------------------------------------


def test_an_api_write_goes_through_the_services():
    user = staff("api-curator", "Curators")
    api = client_for(user)
    reference = Reference.objects.get(number=1)
    created = api.post(
        "/api/v1/studies/",
        {
            "reference": reference.pk,
            "label": "Write path",
            "therapies": ["rituximab"],
            "subtypes": ["dm"],
            "design": "case_report",
            "result": "benefit",
            "summary": "One patient.",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    record = latest(Study, pk)
    assert (record.history_user, record.history_change_reason) == (
        user,
        "Created through the API",
    )
    url = f"/api/v1/studies/{pk}/"
    changed = api.patch(
        url, {"summary": "Two patients."}, format="json", HTTP_IF_MATCH=api.get(url)["ETag"]
    )
    assert changed.status_code == 200, changed.json()
    assert latest(Study, pk).history_change_reason == "Changed through the API"


def test_the_api_refuses_a_published_study_showing_a_draft_therapy_with_409():
    study, therapy = published_study_and_draft_therapy()
    api = client_for(staff("api-editor", EDITORS))
    url = f"/api/v1/studies/{study.pk}/"
    slugs = [t.slug for t in study.therapies.all()]
    response = api.patch(
        url,
        {"therapies": [*slugs, therapy.slug]},
        format="json",
        HTTP_IF_MATCH=api.get(url)["ETag"],
    )
    assert response.status_code == 409, response.json()
    assert "not published yet" in json.dumps(response.json())
    assert therapy.name in json.dumps(response.json())
    assert sorted(t.slug for t in study.therapies.all()) == sorted(slugs)


# -- the importer ------------------------------------------------------------------------------


def test_an_import_goes_through_the_services():
    """A command has no request: the service attributes the reference, its authors and the
    contribution (four eyes) to the importing user, with the import as the reason."""
    user = staff("importer", "Curators")
    bib = "@article{writepath2026, title = {Write path}, year = 2026, author = {Doe, Jane}}"
    report = import_bibtex(text=bib, user=user)
    reference = Reference.objects.get(pk=report.entries[0].reference_id)
    record = latest(Reference, reference.pk)
    assert (record.history_user, record.history_change_reason) == (
        user,
        "Created by a BibTeX import",
    )
    author = reference.authors.get()
    assert latest(Author, author.pk).history_change_reason == "Created by a BibTeX import"
    assert contributed(user, reference)


# -- the loader --------------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    target = tmp_path / "fixtures"
    shutil.copytree(settings.MYOEVIDENCE_FIXTURES, target)
    return target


def test_the_loader_sets_statuses_through_the_workflow_and_names_a_refusal(corpus):
    """A status the fixtures give goes through ``core.workflow.load_status``: a reference that
    published studies show cannot be set back to draft, and the load is refused whole with
    a sentence (not a traceback)."""
    reference = Reference.objects.get(number=1)
    assert reference.studies.published().exists()
    (corpus / "reference_status.json").write_text(
        json.dumps({"references": {reference.bibtex_key: "draft"}})
    )
    with pytest.raises(CommandError, match="cannot be set to draft"):
        call_command("load_corpus", str(corpus), verbosity=0)
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.PUBLISHED


def test_the_loader_publishes_a_new_entry_through_the_workflow(corpus):
    """A new entry is written by the service, then published by ``load_status``: both
    records carry the loader's reason, and the entry ends published."""
    path = corpus / "therapies.json"
    data = json.loads(path.read_text())
    row = dict(data["therapies"][0], slug="write-path-mab", name="Write-path mab")
    data["therapies"].append(row)
    path.write_text(json.dumps(data))
    call_command("load_corpus", str(corpus), verbosity=0)
    therapy = Therapy.objects.get(slug="write-path-mab")
    assert therapy.status == ReviewStatus.PUBLISHED
    records = list(therapy.history.order_by("history_id"))
    assert [r.status for r in records] == [ReviewStatus.DRAFT, ReviewStatus.PUBLISHED]
    assert {r.history_change_reason for r in records} == {LOADED}
