"""One trust boundary: what readers see is decided once, every write keeps the rule "a
published entry shows only published entries", and four eyes hold (issue 12, items 1-4).

Each scenario is driven as the people who meet it would: anonymous readers through pages,
the API and exports; curators and editors through the admin and the API.
"""

import json
import re
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse

from core import workflow
from core.choices import ReviewStatus
from core.invariants import InvariantError
from core.workflow import CURATORS, EDITORS, WorkflowError
from evidence.models import DiseaseSubtype, Statement, Study
from evidence.services.studies import upsert_study
from references.models import Reference
from tests.factories import client_for, staff
from therapies.models import DrugClass, Therapy, TherapyRationale

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

MARK = "Zebramab"  # a name that appears nowhere in the real corpus


@pytest.fixture
def draft_therapy():
    return Therapy.objects.create(
        name=MARK,
        slug="zebramab",
        position="investigational",
        drug_class=DrugClass.objects.get(slug="anti-cd20"),
    )


@pytest.fixture
def rim():
    return Study.objects.get(key="ref01-rim-trial")


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# -- 1. one visibility layer ---------------------------------------------------------------------


def test_a_draft_statement_linked_to_a_published_study_stays_off_its_page(client, rim):
    statement = Statement.objects.create(
        therapy=rim.therapies.first(), key="draft-claim", text=f"{MARK} claim not yet reviewed"
    )
    statement.studies.add(rim)  # allowed: the statement is a draft
    assert MARK not in page(client, rim.get_absolute_url())
    client.force_login(staff("cur", CURATORS))
    assert MARK in page(client, rim.get_absolute_url())


def test_a_rationale_to_a_draft_therapy_does_not_show_its_name_on_a_reference(
    client, draft_therapy
):
    reference = Reference.objects.get(number=9)
    TherapyRationale.objects.create(therapy=draft_therapy, reference=reference, pathway="CD20")
    url = reverse("references:reference_detail", args=[9])
    assert MARK not in page(client, url)
    client.force_login(staff("cur", CURATORS))
    assert MARK in page(client, url)


def test_reference_lists_filtered_by_therapy_or_subtype_ignore_draft_studies(client):
    reference = Reference.objects.get(number=9)  # a published reference with no study
    upsert_study(
        key="draft-on-ref9",
        reference=reference,
        therapies=["rituximab"],
        subtypes=["ibm"],
        label="Draft study",
        design="case_report",
        result="benefit",
        summary="Not reviewed.",
    )
    for query in ("therapy=rituximab", "subtype=ibm"):
        listing = page(client, f"/references/?{query}")
        assert reverse("references:reference_detail", args=[9]) not in listing
        api = client_for().get(f"/api/v1/references/?{query}&page_size=500").json()
        assert 9 not in [r["number"] for r in api["results"]]
        bib = b"".join(client.get(f"/references/export/bibtex/?{query}").streaming_content)
        assert reference.bibtex_key.encode() not in bib
    client.force_login(staff("cur", CURATORS))
    assert reverse("references:reference_detail", args=[9]) in page(
        client, "/references/?therapy=rituximab"
    )


def test_draft_therapy_names_are_not_in_filter_forms_or_the_api_schema(client, draft_therapy):
    assert MARK not in page(client, "/studies/")
    schema = client.get("/api/schema/?format=json").content.decode()
    assert "zebramab" not in schema and MARK not in schema
    assert client_for().get("/api/v1/studies/?therapy=zebramab").status_code == 400
    client.force_login(staff("cur", CURATORS))
    assert MARK in page(client, "/studies/")


def test_draft_subtypes_and_drug_classes_are_not_public(client):
    subtype = DiseaseSubtype.objects.create(
        code="zeb", slug="zebra-myositis", name=f"{MARK} myositis"
    )
    DrugClass.objects.create(name=f"{MARK} class", slug="zebra-class")
    assert MARK not in page(client, "/subtypes/")
    assert client.get(subtype.get_absolute_url()).status_code == 404
    assert MARK not in json.dumps(client_for().get("/api/v1/subtypes/").json())
    assert MARK not in json.dumps(client_for().get("/api/v1/drug-classes/").json())
    assert client_for().get("/api/v1/studies/?subtype=zeb").status_code == 400
    assert MARK not in page(client, "/search/?q=zebramab")


def test_staff_status_alone_does_not_show_drafts(client, rim):
    Study.objects.filter(pk=rim.pk).update(status=ReviewStatus.DRAFT)
    Statement.objects.filter(studies=rim).update(status=ReviewStatus.DRAFT)
    client.force_login(User.objects.create_user("clerk", is_staff=True))
    assert client.get(rim.get_absolute_url()).status_code == 404
    client.force_login(staff("cur", CURATORS))
    assert client.get(rim.get_absolute_url()).status_code == 200


@pytest.fixture
def draft_subtype():
    return DiseaseSubtype.objects.create(
        code="quokka", slug="quokka-myositis", name="Quokka myositis"
    )


def test_a_draft_subtype_has_no_summary_page_or_api(client, draft_subtype):
    page = client.get("/therapies/rituximab/quokka-myositis/")
    assert page.status_code == 404 and "Quokka" not in page.content.decode()
    unknown = client_for().get("/api/v1/summary/rituximab/no-such-subtype/")
    for ident in ("quokka", "quokka-myositis"):
        draft = client_for().get(f"/api/v1/summary/rituximab/{ident}/")
        assert draft.status_code == unknown.status_code == 404
        assert draft.json() == unknown.json()
    client.force_login(staff("cur", CURATORS))  # curators review the draft's summary
    assert client.get("/therapies/rituximab/quokka-myositis/").status_code == 200


def test_a_draft_subtypes_slug_in_a_reference_filter_is_an_unknown_slug(client, draft_subtype):
    """The slug is left as typed, as an unknown slug is, instead of being turned into the
    draft's code (which the page then named as the active filter)."""
    draft = client.get("/references/", {"subtype": "quokka-myositis"}).content.decode()
    unknown = client.get("/references/", {"subtype": "no-such-myositis"}).content.decode()
    assert "quokka" not in draft.replace("quokka-myositis", "")
    assert draft.replace("quokka-myositis", "no-such-myositis") == unknown
    api = client_for().get("/api/v1/references/", {"subtype": "quokka-myositis"})
    assert "quokka" not in api.content.decode().replace("quokka-myositis", "")


@pytest.fixture
def narrowed_curator():
    """A curator whose group may not view studies (a narrowed group): shown published
    studies only, as a reader is."""
    from django.contrib.auth.models import Group, Permission

    Group.objects.get(name=CURATORS).permissions.remove(
        Permission.objects.get(codename="view_study")
    )
    return staff("narrow", CURATORS)


def _draft_statement_citing(*studies) -> Statement:
    statement = Statement.objects.filter(studies__isnull=False).order_by("pk").first()
    Statement.objects.filter(pk=statement.pk).update(status=ReviewStatus.DRAFT)
    statement.studies.set(studies)
    return statement


def test_sending_back_a_statement_keeps_the_studies_its_writer_was_not_shown(narrowed_curator, rim):
    hidden = Study.objects.exclude(pk=rim.pk).order_by("pk").first()
    Study.objects.filter(pk=hidden.pk).update(status=ReviewStatus.DRAFT)
    statement = _draft_statement_citing(rim, hidden)
    api = client_for(narrowed_curator)
    url = f"/api/v1/statements/{statement.pk}/"
    read = api.get(url)
    assert read.json()["studies"] == [rim.pk]  # the draft is not shown to this curator
    body = {k: read.json()[k] for k in ["key", "therapy", "studies", "references"]}
    body["text"] = "Reworded by a curator who cannot see draft studies."
    response = api.put(url, body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.json()
    assert response.json()["studies"] == [rim.pk]
    statement.refresh_from_db()
    assert statement.text == body["text"]
    assert set(statement.studies.values_list("pk", flat=True)) == {rim.pk, hidden.pk}


def test_a_statement_sent_back_unchanged_writes_nothing(narrowed_curator, rim):
    """The links kept for the curator are the stored ones: sending back what was read is no
    change (no history record, no new ETag), though the curator was shown fewer links."""
    hidden = Study.objects.exclude(pk=rim.pk).order_by("pk").first()
    Study.objects.filter(pk=hidden.pk).update(status=ReviewStatus.DRAFT)
    statement = _draft_statement_citing(rim, hidden)
    records = statement.history.count()
    api = client_for(narrowed_curator)
    url = f"/api/v1/statements/{statement.pk}/"
    read = api.get(url)
    body = {k: read.json()[k] for k in ["key", "therapy", "text", "studies", "references"]}
    response = api.put(url, body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.json()
    assert response["ETag"] == read["ETag"]
    assert statement.history.count() == records
    assert set(statement.studies.values_list("pk", flat=True)) == {rim.pk, hidden.pk}


def test_the_admin_shows_a_narrowed_curator_no_draft_link_and_keeps_it(
    client, narrowed_curator, rim
):
    from tests.evidence.test_admin import change_form_data

    hidden = Study.objects.exclude(pk=rim.pk).order_by("pk").first()
    Study.objects.filter(pk=hidden.pk).update(status=ReviewStatus.DRAFT, label="Unseen draft")
    statement = _draft_statement_citing(rim, hidden)
    client.force_login(narrowed_curator)
    url = reverse("admin:evidence_statement_change", args=[statement.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Unseen draft" not in page.content.decode()
    data = change_form_data(client, url)
    data["studies"] = [str(rim.pk)]  # what the browser sends: the options it was shown
    data["text"] = "Reworded in the admin by a curator who cannot see draft studies."
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    statement.refresh_from_db()
    assert statement.text == data["text"]
    assert set(statement.studies.values_list("pk", flat=True)) == {rim.pk, hidden.pk}


def test_an_unsaved_entry_has_no_hidden_links():
    from core.services import hidden_links

    assert hidden_links(Statement(key="not-saved"), "studies", None) == []


def test_a_study_the_writer_may_not_see_cannot_be_linked_or_probed(narrowed_curator, rim):
    hidden = Study.objects.exclude(pk=rim.pk).order_by("pk").first()
    Study.objects.filter(pk=hidden.pk).update(status=ReviewStatus.DRAFT)
    api = client_for(narrowed_curator)
    body = {"key": "narrow-claim", "therapy": "rituximab", "text": "A claim."}
    linked = api.post("/api/v1/statements/", {**body, "studies": [hidden.pk]}, format="json")
    unknown = api.post("/api/v1/statements/", {**body, "studies": [10**9]}, format="json")
    assert linked.status_code == unknown.status_code == 400
    # The same words as for an id that does not exist: nothing tells the draft is there.
    assert linked.json()["studies"] == [
        m.replace(str(10**9), str(hidden.pk)) for m in unknown.json()["studies"]
    ]
    assert not Statement.objects.filter(key="narrow-claim").exists()


def test_a_curator_who_sees_a_draft_study_may_unlink_it(curator_api, rim):
    hidden = Study.objects.exclude(pk=rim.pk).order_by("pk").first()
    Study.objects.filter(pk=hidden.pk).update(status=ReviewStatus.DRAFT)
    statement = _draft_statement_citing(rim, hidden)
    url = f"/api/v1/statements/{statement.pk}/"
    read = curator_api.get(url)
    assert sorted(read.json()["studies"]) == sorted([rim.pk, hidden.pk])
    response = curator_api.patch(
        url, {"studies": [rim.pk]}, format="json", HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 200, response.json()
    assert list(statement.studies.values_list("pk", flat=True)) == [rim.pk]


# -- 2. the invariant on every write -------------------------------------------------------------


def test_linking_a_draft_therapy_to_a_published_study_is_refused_everywhere(
    client, draft_therapy, rim
):
    editor = staff("ed", EDITORS)
    client.force_login(editor)
    url = reverse("admin:evidence_study_change", args=[rim.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "therapies": [t.pk for t in rim.therapies.all()] + [draft_therapy.pk],
            "subtypes": [s.pk for s in rim.subtypes.all()],
            "outcomes-TOTAL_FORMS": 0,
            "outcomes-INITIAL_FORMS": 0,
            "provenance-TOTAL_FORMS": 0,
            "provenance-INITIAL_FORMS": 0,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "may show only published entries" in response.content.decode()
    assert MARK not in page(client_anonymous(), rim.get_absolute_url())
    # The ORM itself refuses, whatever code path would try (importer, shell, a future view).
    with pytest.raises(InvariantError, match=MARK), transaction.atomic():
        rim.therapies.add(draft_therapy)
    with pytest.raises(InvariantError, match=MARK), transaction.atomic():
        draft_therapy.studies.add(rim)
    # And the API answers 409 naming it.
    api = client_for(staff("apied", EDITORS))
    etag = api.get(f"/api/v1/studies/{rim.pk}/")["ETag"]
    response = api.patch(
        f"/api/v1/studies/{rim.pk}/",
        {"therapies": ["rituximab", "zebramab"]},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 409 and MARK in response.json()["detail"]
    assert set(rim.therapies.values_list("slug", flat=True)) == {"rituximab"}


def test_a_published_entry_cannot_be_set_back_to_draft_while_published_entries_show_it(rim):
    reference = rim.reference
    reference.status = ReviewStatus.DRAFT
    with (
        pytest.raises(InvariantError, match="Published entries show this reference"),
        transaction.atomic(),
    ):
        reference.save()


def test_the_loader_path_refuses_a_published_study_of_a_draft_reference():
    reference = Reference.objects.get(number=9)
    Reference.objects.filter(pk=reference.pk).update(status=ReviewStatus.DRAFT)
    reference.refresh_from_db()
    with pytest.raises(InvariantError, match="not published yet"), transaction.atomic():
        upsert_study(
            key="published-on-draft",
            reference=reference,
            therapies=["rituximab"],
            subtypes=["dm"],
            label="x",
            design="case_report",
            result="benefit",
            summary="x",
            status=ReviewStatus.PUBLISHED,
        )
    assert not Study.objects.filter(key="published-on-draft").exists()


def test_deleting_a_published_entry_that_published_entries_show_is_protected(client, rim):
    client.force_login(User.objects.create_superuser("root", password="x"))
    therapy = Therapy.objects.get(slug="rituximab")
    response = client.post(
        reverse("admin:therapies_therapy_delete", args=[therapy.pk]), {"post": "yes"}
    )
    assert response.status_code == 200 and "protected" in response.content.decode()
    assert Therapy.objects.filter(pk=therapy.pk).exists()


def client_anonymous():
    from django.test import Client

    return Client()


# -- 3. every content model under the workflow -------------------------------------------------


def test_a_curator_submits_a_new_subtype_and_another_editor_publishes_it(client):
    curator = staff("cur", CURATORS)
    client.force_login(curator)
    response = client.post(
        reverse("admin:evidence_diseasesubtype_add"),
        {"code": "zeb", "slug": "zebra-myositis", "name": f"{MARK} myositis", "order": 5},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    subtype = DiseaseSubtype.objects.get(code="zeb")
    assert subtype.status == ReviewStatus.DRAFT
    workflow.submit(subtype, user=curator)
    assert MARK not in page(client_anonymous(), "/subtypes/")
    workflow.publish(subtype, user=staff("ed", EDITORS), comment="Checked against DOMAIN")
    assert MARK in page(client_anonymous(), "/subtypes/")
    assert subtype.history.first().history_change_reason.startswith("Published")


# -- 4. four eyes --------------------------------------------------------------------------------


def _submitted_reference(curator) -> Reference:
    reference = Reference.objects.create(
        title="A four-eyes test", year=2026, bibtex_key="eyes", journal="J Test"
    )
    workflow.submit(reference, user=curator)
    return reference


def test_an_editor_who_changed_a_submitted_entry_cannot_publish_it(client):
    curator, editor, other = staff("cur", CURATORS), staff("ed", EDITORS), staff("ed2", EDITORS)
    reference = _submitted_reference(curator)
    client.force_login(editor)
    url = reverse("admin:references_reference_change", args=[reference.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "title": "A four-eyes test, rewritten by the editor",
            "authors-TOTAL_FORMS": 0,
            "authors-INITIAL_FORMS": 0,
            "studies-TOTAL_FORMS": 0,
            "studies-INITIAL_FORMS": 0,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, (
        response.context["adminform"].form.errors,
        response.context["errors"],
    )
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.SUBMITTED and reference.submitted_by == curator
    assert "publish" not in workflow.allowed_actions(reference, editor)
    with pytest.raises(WorkflowError, match="wrote or changed"):
        workflow.publish(reference, user=editor, comment="Looks fine")
    workflow.publish(reference, user=other, comment="Second pair of eyes")
    assert Reference.objects.get(pk=reference.pk).status == ReviewStatus.PUBLISHED


def test_a_publish_decided_on_a_copy_that_changed_since_is_refused(client):
    curator, editor = staff("cur", CURATORS), staff("ed", EDITORS)
    reference = _submitted_reference(curator)
    client.force_login(editor)
    url = reverse("admin:references_reference_review", args=[reference.pk])
    version = unescape(re.search(r'name="version" value="([^"]*)"', page(client, url)).group(1))
    # The curator changes the entry after the editor opened the review page.
    reference.title = "Changed while under review"
    reference._history_user = curator
    reference.save()
    response = client.post(url, {"action": "publish", "comment": "OK", "version": version})
    assert "changed after you opened it for review" in response.content.decode()
    assert Reference.objects.get(pk=reference.pk).status == ReviewStatus.SUBMITTED


def test_a_superuser_may_publish_their_own_work_and_it_is_recorded():
    root = User.objects.create_superuser("root", password="x")
    reference = _submitted_reference(root)
    workflow.publish(reference, user=root, comment="Urgent fix")
    reference.refresh_from_db()
    assert reference.status == ReviewStatus.PUBLISHED
    assert reference.review_comment.startswith("[published by a superuser who wrote")


def test_publishing_is_not_authorship():
    """The editor who publishes does not become an author (they may withdraw and republish
    someone else's entry later)."""
    curator, editor = staff("cur", CURATORS), staff("ed", EDITORS)
    reference = _submitted_reference(curator)
    workflow.publish(reference, user=editor, comment="Checked")
    assert editor.pk not in workflow.authors(reference)
    assert curator.pk in workflow.authors(reference)
