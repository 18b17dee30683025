"""load_corpus: loads every fixture, idempotently, refuses a broken corpus whole, and keeps
what curators changed (in the admin, the API, the workflow) unless told --force."""

import json
import re
import shutil

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.choices import ReviewStatus
from core.workflow import withdraw
from evidence.models import CertaintyOverride, Outcome, Provenance, Statement, Study
from evidence.services.curation import LOADED, RESET
from references.models import Author, Reference
from tests.evidence.test_admin import change_form_data, study_post_data
from tests.factories import client_for, staff
from therapies.models import Therapy

pytestmark = pytest.mark.django_db

MODELS = [Reference, Author, Therapy, Study, Outcome, Provenance]


def snapshot():
    rows = {m.__name__: sorted(m.objects.values_list("pk", flat=True)) for m in MODELS}
    history = {m.__name__: m.history.count() for m in MODELS}
    return rows, history


def test_loading_twice_changes_nothing(capsys):
    before = snapshot()
    call_command("load_corpus")
    assert snapshot() == before  # same rows, same ids, no new history
    out = capsys.readouterr().out
    # 60 + the review
    assert "references: 61 in the fixtures: 0 new, 61 unchanged, 0 updated, 0 kept" in out
    assert "kept:" not in out and "updated:" not in out and "not in the fixtures" not in out


def test_corpus_is_published_and_complete():
    assert Reference.objects.published().exclude(number=None).count() == 60
    assert Reference.objects.get(number=None).role == "source_review"  # the review itself
    assert Study.objects.published().count() == Study.objects.count() > 30
    assert Therapy.objects.filter(slug="rituximab").exists()


@pytest.fixture
def broken_corpus(tmp_path):
    target = tmp_path / "fixtures"
    shutil.copytree(settings.MYOEVIDENCE_FIXTURES, target)
    return target


def test_a_bad_study_refuses_the_whole_load_and_names_it(broken_corpus):
    path = broken_corpus / "studies" / "refs_01_15.json"
    data = json.loads(path.read_text())
    data["studies"][0]["therapies"] = ["no-such-drug"]
    data["studies"][0]["summary"] = "CHANGED"
    data["studies"][1]["sample_size"] = -4
    path.write_text(json.dumps(data))
    Study.objects.all().delete()  # start from no studies: nothing may appear
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(broken_corpus))
    message = str(info.value)
    assert "nothing was saved" in message
    assert "ref01-rim-trial): unknown therapy slug(s): no-such-drug" in message
    assert "sample_size" in message
    assert Study.objects.count() == 0


def test_a_malformed_bib_is_refused_with_its_line(broken_corpus):
    bib = broken_corpus / "references.bib"
    text = bib.read_text().replace("title = {Rituximab in the treatment", "title = {{Rituximab", 1)
    bib.write_text(text)
    before = snapshot()
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(broken_corpus))
    assert "line" in str(info.value) and "references.bib" in str(info.value)
    assert snapshot() == before


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("load_corpus", str(tmp_path / "nope"))


# -- curators' work survives a reload ------------------------------------------------------


def load(*args) -> str:
    """Run load_corpus; its output."""
    from io import StringIO

    out = StringIO()
    call_command("load_corpus", *args, stdout=out)
    return out.getvalue()


def kept_line(kind: str, name: str, who: str) -> re.Pattern:
    return re.compile(
        rf"^kept: {kind} {re.escape(name)} \(changed by {who} on "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC(: .+)?\)$",
        re.MULTILINE,
    )


def history_counts() -> dict[str, int]:
    return {m.__name__: m.history.count() for m in MODELS}


def edit_in_admin(client, key: str) -> Study:
    """Change the study's summary on its admin page, as the logged-in user."""
    study = Study.objects.get(key=key)
    data = study_post_data(client, study)
    data["summary"] = "Edited by an editor in the admin."
    response = client.post(reverse("admin:evidence_study_change", args=[study.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    return study


def test_a_study_edited_in_the_admin_is_kept_and_named(client, editor):
    study = edit_in_admin(client, "ref01-rim-trial")
    before = history_counts()

    out = load()

    study.refresh_from_db()
    assert study.summary == "Edited by an editor in the admin."
    assert kept_line("study", "ref01-rim-trial", "editor").search(out), out
    assert "studies: 43 in the fixtures: 0 new, 42 unchanged, 0 updated, 1 kept" in out
    assert "load_corpus --force" in out
    assert history_counts() == before  # the fixtures' version was tried and rolled back


def test_an_outcome_edited_on_its_own_admin_page_keeps_its_study(client, editor):
    """An outcome is part of its study: editing it alone (no new history on the study) is an
    edit of the study."""
    outcome = Outcome.objects.filter(study__key="ref01-rim-trial").order_by("pk").first()
    study_records = Study.history.filter(id=outcome.study_id).count()
    url = reverse("admin:evidence_outcome_change", args=[outcome.pk])
    data = change_form_data(client, url)
    data["value"] = "Corrected by an editor."
    assert client.post(url, data).status_code == 302
    assert Study.history.filter(id=outcome.study_id).count() == study_records

    out = load()

    outcome.refresh_from_db()
    assert outcome.value == "Corrected by an editor."
    assert kept_line("study", "ref01-rim-trial", "editor").search(out), out


def test_a_reference_edited_through_the_api_is_kept_and_named(fresh_throttle):
    api = client_for(staff("alice", "Editors"))
    reference = Reference.objects.get(number=1)
    etag = api.get(f"/api/v1/references/{reference.pk}/")["ETag"]
    response = api.patch(
        f"/api/v1/references/{reference.pk}/",
        {"title": "A title corrected by Alice"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content

    out = load()

    reference.refresh_from_db()
    assert reference.title == "A title corrected by Alice"
    assert kept_line("reference", reference.bibtex_key, "alice").search(out), out


def test_an_author_changed_through_the_api_keeps_the_reference(fresh_throttle):
    api = client_for(staff("alice", "Editors"))
    reference = Reference.objects.get(number=1)
    authors = [
        {"family": a.family, "given": a.given, "is_corporate": a.is_corporate}
        for a in reference.ordered_authors
    ]
    authors[0]["given"] = "Zed"
    etag = api.get(f"/api/v1/references/{reference.pk}/")["ETag"]
    response = api.patch(
        f"/api/v1/references/{reference.pk}/",
        {"author_details": authors},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200, response.content
    assert not Reference.history.filter(id=reference.pk, history_user__isnull=False).exists()

    out = load()

    assert reference.authors.get(position=1).given == "Zed"
    assert kept_line("reference", reference.bibtex_key, "alice").search(out), out


def test_a_workflow_transition_is_curation_too():
    """An editor withdrew a study: reloading the fixtures (published) must not republish it."""
    study = Study.objects.get(key="ref04-apheresis-sham-trial")
    withdraw(study, user=staff("ed", "Editors"), comment="Duplicate of another report.")

    out = load()

    study.refresh_from_db()
    assert study.status == "withdrawn"
    assert kept_line("study", "ref04-apheresis-sham-trial", "ed").search(out), out
    assert "Withdrawn: Duplicate of another report." in out  # the editor's comment


def test_a_curated_entry_the_fixtures_agree_with_is_not_a_conflict(client, editor):
    study = Study.objects.get(key="ref01-rim-trial")
    url = reverse("admin:evidence_study_change", args=[study.pk])
    assert client.post(url, study_post_data(client, study)).status_code == 302  # saved as is

    out = load()

    assert "kept:" not in out
    assert "studies: 43 in the fixtures: 0 new, 43 unchanged, 0 updated, 0 kept" in out


@pytest.fixture
def corpus(tmp_path):
    """A copy of the fixtures to change."""
    target = tmp_path / "fixtures"
    shutil.copytree(settings.MYOEVIDENCE_FIXTURES, target)
    return target


def change_fixture_study(corpus, key: str, **fields) -> None:
    for path in (corpus / "studies").glob("*.json"):
        data = json.loads(path.read_text())
        for row in data["studies"]:
            if row["key"] == key:
                row.update(fields)
                path.write_text(json.dumps(data))
                return
    raise AssertionError(f"no study {key} in the fixtures")


def test_a_changed_fixture_updates_what_nobody_edited_and_keeps_what_they_did(
    client, editor, corpus
):
    study = edit_in_admin(client, "ref01-rim-trial")
    change_fixture_study(corpus, "ref01-rim-trial", summary="New fixture summary (RIM).")
    change_fixture_study(corpus, "ref02-aza-prednisone-trial", summary="New fixture summary.")

    out = load(str(corpus))

    updated = Study.objects.get(key="ref02-aza-prednisone-trial")
    assert updated.summary == "New fixture summary."
    latest = updated.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (None, LOADED)
    assert "updated: study ref02-aza-prednisone-trial" in out.splitlines()
    study.refresh_from_db()
    assert study.summary == "Edited by an editor in the admin."
    assert kept_line("study", "ref01-rim-trial", "editor").search(out), out
    assert "1 updated, 1 kept" in out
    assert load(str(corpus)).count("updated:") == 0  # applied once, then unchanged


def test_force_resets_curated_entries_and_names_them(client, editor):
    study = edit_in_admin(client, "ref01-rim-trial")
    fixture_summary = study.summary  # read before the edit

    out = load("--force")

    study.refresh_from_db()
    assert study.summary == fixture_summary
    assert re.search(
        r"^overwritten: study ref01-rim-trial \(changed by editor on ", out, re.MULTILINE
    ), out
    assert "1 curated overwritten (--force)" in out
    assert study.history.latest().history_change_reason == RESET
    # The history still has the editor's version, and the entry follows the fixtures again.
    assert study.history.filter(summary="Edited by an editor in the admin.").exists()
    before = history_counts()
    again = load()
    assert "kept:" not in again and "overwritten:" not in again
    assert history_counts() == before


def test_a_study_added_to_the_fixtures_is_created_and_named(corpus):
    path = corpus / "studies" / "refs_01_15.json"
    data = json.loads(path.read_text())
    data["studies"].append(
        {
            **data["studies"][0],
            "key": "ref01-rim-trial-extension",
            "label": "RIM trial, open extension",
        }
    )
    path.write_text(json.dumps(data))

    out = load(str(corpus))

    assert Study.objects.filter(key="ref01-rim-trial-extension").exists()
    assert "new: study ref01-rim-trial-extension" in out.splitlines()
    assert "studies: 44 in the fixtures: 1 new, 43 unchanged" in out


def test_a_first_load_counts_its_new_entries_without_listing_them():
    Statement.objects.all().delete()
    out = load()
    assert "statements: 15 in the fixtures: 15 new, 0 unchanged" in out
    assert "new: statement" not in out


def test_entries_missing_from_the_fixtures_are_never_deleted_only_reported(corpus):
    path = corpus / "studies" / "refs_01_15.json"
    data = json.loads(path.read_text())
    removed = data["studies"].pop(0)["key"]
    path.write_text(json.dumps(data))

    out = load(str(corpus))

    assert Study.objects.filter(key=removed).exists()
    assert f"not in the fixtures, left as they are: studies {removed}" in out.splitlines()
    assert "studies: 42 in the fixtures" in out and "; 1 in the database only" in out


def test_a_broken_fixture_for_a_curated_entry_still_refuses_the_whole_load(client, editor, corpus):
    edit_in_admin(client, "ref01-rim-trial")
    change_fixture_study(corpus, "ref01-rim-trial", sample_size=-1)
    change_fixture_study(corpus, "ref02-aza-prednisone-trial", summary="Would be new.")
    with pytest.raises(CommandError, match=r"ref01-rim-trial\): sample_size"):
        load(str(corpus))
    assert Study.objects.get(key="ref02-aza-prednisone-trial").summary != "Would be new."


# -- what a curator deleted stays deleted ------------------------------------------------------


def delete_override_in_admin(client):
    override = CertaintyOverride.objects.get(therapy__slug="rituximab", subtype__code="jdm")
    response = client.post(
        reverse("admin:evidence_certaintyoverride_delete", args=[override.pk]), {"post": "yes"}
    )
    assert response.status_code == 302


def test_an_entry_an_editor_deleted_is_not_brought_back_and_is_named(client, editor):
    """The loader took an entry with no row for a new one: it re-created, published, the
    certainty override an editor had deleted, and named it nowhere."""
    delete_override_in_admin(client)

    out = load()

    assert not CertaintyOverride.objects.exists()
    assert re.search(
        r"^kept: certainty override rituximab x jdm \(deleted by editor on "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC: Deleted in the admin\)$",
        out,
        re.MULTILINE,
    ), out
    assert "certainty overrides: 1 in the fixtures: 0 new, 0 unchanged, 0 updated, 1 kept" in out
    # --force restores the fixtures' version, as for any curated entry.
    load("--force")
    assert CertaintyOverride.objects.filter(therapy__slug="rituximab", subtype__code="jdm").exists()


def test_fixtures_citing_a_deleted_entry_are_refused_saying_it_was_deleted(client, editor):
    """A statement of the fixtures cites a study an editor deleted: the load is refused (all
    or nothing), and the error says that the study was deleted, by whom."""
    statement = Statement.objects.filter(studies__isnull=False).order_by("pk").first()
    study = statement.studies.order_by("pk").first()
    Statement.objects.filter(studies=study).update(status=ReviewStatus.DRAFT)
    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    response = client.post(reverse("admin:evidence_study_delete", args=[study.pk]), {"post": "yes"})
    assert response.status_code == 302

    with pytest.raises(CommandError) as refused:
        load()

    message = str(refused.value)
    assert f"unknown study key(s): {study.key}" in message
    assert f"left deleted: study {study.key} (deleted by editor on " in message
    assert not Study.objects.filter(key=study.key).exists()


def test_an_outcome_moved_to_another_study_is_curation_of_both(client, editor):
    """An editor moves an outcome recorded under the wrong study to the right one (its own
    admin page). The loader saw the move only under the study that received it: it called the
    other uncurated and put the outcome back, so the result was reported under both."""
    source = Study.objects.get(key="ref13-levine-rtx-pilot")
    target = Study.objects.get(key="ref14-mok-rtx-pm")
    outcome = source.outcomes.order_by("order", "pk").last()
    url = reverse("admin:evidence_outcome_change", args=[outcome.pk])
    data = change_form_data(client, url)
    data["study"] = str(target.pk)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    left = list(source.outcomes.values_list("pk", flat=True))

    out = load()

    assert list(source.outcomes.values_list("pk", flat=True)) == left
    assert kept_line("study", source.key, "editor").search(out), out
    assert kept_line("study", target.key, "editor").search(out), out
