"""Writing through the API: tokens, the editorial workflow's rules, validation as 400s and
If-Match guarding against lost updates."""

import pytest

from core.choices import ReviewStatus
from evidence.models import Statement, Study
from references.models import Reference
from tests.factories import client_for, staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

STUDIES = "/api/v1/studies/"


def if_match(client, url: str) -> dict:
    """The header a careful integrator sends: the ETag of the record as just read."""
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return {"HTTP_IF_MATCH": response["ETag"]}


def new_study(**changes):
    reference = Reference.objects.get(number=1)
    data = {
        "reference": reference.pk,
        "label": "API test study",
        "therapies": ["rituximab"],
        "subtypes": ["dm", "pm"],
        "design": "case_series",
        "result": "benefit",
        "summary": "Six patients improved.",
        "sample_size": 6,
        "outcomes": [{"measure": "mmt8", "responders": 4, "n": 6, "is_primary": True}],
    }
    data.update(changes)
    return data


def test_anonymous_writes_are_401_and_plain_users_403():
    response = client_for().post(STUDIES, new_study(), format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert client_for(staff("reader")).post(STUDIES, new_study(), format="json").status_code == 403


def test_a_curator_creates_a_draft_study(curator_api):
    response = curator_api.post(STUDIES, new_study(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft" and data["level"] == 4
    assert data["therapies"] == ["rituximab"] and set(data["subtypes"]) == {"dm", "pm"}
    assert data["outcomes"][0]["display_value"] == "4/6 (67%)"
    assert response["Location"].endswith(f"{STUDIES}{data['id']}/")
    assert response["ETag"]
    # A draft: hidden from the public, visible to staff.
    assert client_for().get(f"{STUDIES}{data['id']}/").status_code == 404
    assert curator_api.get(f"{STUDIES}{data['id']}/").status_code == 200


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"therapies": ["snake-oil"]}, "therapies"),
        ({"subtypes": []}, "subtypes"),
        ({"design": "anecdote"}, "design"),
        ({"reference": 10**9}, "reference"),
        ({"level_override": 1}, "level_override_reason"),
        ({"outcomes": [{"measure": "mmt8", "responders": 7, "n": 6}]}, "non_field_errors"),
        ({"sample_size": -3}, "sample_size"),
        ({"label": ""}, "label"),
    ],
)
def test_invalid_studies_are_400_with_field_messages(curator_api, changes, field):
    response = curator_api.post(STUDIES, new_study(**changes), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_a_duplicate_doi_is_400_not_500(curator_api):
    existing = Reference.objects.exclude(doi="").first()
    response = curator_api.post(
        "/api/v1/references/",
        {
            "title": "A copy",
            "year": 2020,
            "doi": existing.doi.upper(),
            "author_details": [{"family": "Doe", "given": "J"}],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "DOI" in str(response.json())


def test_a_curator_creates_a_reference_with_authors(curator_api):
    response = curator_api.post(
        "/api/v1/references/",
        {
            "title": "Tofacitinib in refractory dermatomyositis",
            "year": 2021,
            "journal": "Arthritis Rheumatol",
            "doi": "10.1002/art.99999",
            "pmid": "99999999",
            "author_details": [
                {"family": "Paik", "given": "JJ"},
                {"family": "Christopher-Stine", "given": "L"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["authors"] == ["Paik JJ", "Christopher-Stine L"]
    assert data["bibtex_key"] and data["number"] is None and data["status"] == "draft"


def test_if_match_refuses_a_stale_update_with_412(curator_api):
    created = curator_api.post(STUDIES, new_study(), format="json")
    url, etag = f"{STUDIES}{created.json()['id']}/", created["ETag"]
    assert curator_api.get(url)["ETag"] == etag
    first = curator_api.patch(url, {"summary": "Edited by A."}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200 and first["ETag"] != etag
    stale = curator_api.patch(url, {"summary": "Edited by B."}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "changed" in stale.json()["detail"]
    assert Study.objects.get(pk=created.json()["id"]).summary == "Edited by A."
    fresh = curator_api.patch(
        url, {"summary": "Edited by B."}, format="json", HTTP_IF_MATCH=first["ETag"]
    )
    assert fresh.status_code == 200


def test_patch_keeps_what_it_does_not_mention(curator_api):
    created = curator_api.post(STUDIES, new_study(), format="json").json()
    url = f"{STUDIES}{created['id']}/"
    data = curator_api.patch(
        url, {"sample_size": 8}, format="json", **if_match(curator_api, url)
    ).json()
    assert data["sample_size"] == 8
    assert data["outcomes"] == created["outcomes"]
    assert set(data["subtypes"]) == {"dm", "pm"} and data["summary"] == created["summary"]
    full = curator_api.put(
        url, new_study(label="Renamed", outcomes=[]), format="json", **if_match(curator_api, url)
    ).json()
    assert full["label"] == "Renamed" and full["outcomes"] == []
    assert full["key"] == created["key"]


def test_the_workflow_through_the_api(curator_api, editor_api):
    study_id = curator_api.post(STUDIES, new_study(), format="json").json()["id"]
    url = f"{STUDIES}{study_id}/"
    assert (
        curator_api.post(
            f"{url}publish/", {"comment": "ok"}, format="json", **if_match(curator_api, url)
        ).status_code
        == 403
    )
    assert (
        editor_api.post(
            f"{url}publish/", {"comment": "ok"}, format="json", **if_match(editor_api, url)
        ).status_code
        == 409
    )  # a draft: not submitted
    submitted = curator_api.post(f"{url}submit/", {}, format="json", **if_match(curator_api, url))
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert (
        editor_api.post(
            f"{url}publish/", {}, format="json", **if_match(editor_api, url)
        ).status_code
        == 400
    )  # no comment
    published = editor_api.post(
        f"{url}publish/",
        {"comment": "Checked against PubMed."},
        format="json",
        **if_match(editor_api, url),
    )
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert client_for().get(url).status_code == 200
    # Curators may not change a published entry; editors withdraw it.
    assert (
        curator_api.patch(
            url, {"summary": "x"}, format="json", **if_match(curator_api, url)
        ).status_code
        == 403
    )
    withdrawn = editor_api.post(
        f"{url}withdraw/", {"comment": "Duplicate."}, format="json", **if_match(editor_api, url)
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert client_for().get(url).status_code == 404


def test_an_editor_cannot_publish_their_own_submission(editor_api):
    study_id = editor_api.post(STUDIES, new_study(), format="json").json()["id"]
    url = f"{STUDIES}{study_id}/"
    editor_api.post(f"{url}submit/", {}, format="json", **if_match(editor_api, url))
    response = editor_api.post(
        f"{url}publish/", {"comment": "mine"}, format="json", **if_match(editor_api, url)
    )
    assert response.status_code == 409 and "another editor" in response.json()["detail"]


def test_workflow_actions_honour_if_match(curator_api):
    created = curator_api.post(STUDIES, new_study(), format="json")
    url = f"{STUDIES}{created.json()['id']}/"
    changed = curator_api.patch(
        url, {"summary": "Changed."}, format="json", HTTP_IF_MATCH=created["ETag"]
    )
    assert changed.status_code == 200
    response = curator_api.post(f"{url}submit/", {}, format="json", HTTP_IF_MATCH=created["ETag"])
    assert response.status_code == 412


def test_delete_is_not_offered(editor_api):
    study = Study.objects.first()
    assert editor_api.delete(f"{STUDIES}{study.pk}/").status_code == 405


def test_therapies_and_statements_are_writable(curator_api):
    therapy = curator_api.post(
        "/api/v1/therapies/",
        {
            "slug": "tofacitinib",
            "name": "Tofacitinib",
            "drug_class": "anti-cd20",
            "position": "investigational",
            "synonyms": ["tofa"],
            "brand_names": ["Xeljanz"],
        },
        format="json",
    )
    assert therapy.status_code == 201, therapy.json()
    assert therapy.json()["brand_names"] == ["Xeljanz"]
    url = "/api/v1/therapies/tofacitinib/"
    changed = curator_api.patch(url, {"route": "oral"}, format="json", **if_match(curator_api, url))
    assert changed.json()["route"] == "oral" and changed.json()["synonyms"] == ["tofa"]
    assert (
        curator_api.patch(
            url, {"slug": "tofa"}, format="json", **if_match(curator_api, url)
        ).status_code
        == 400
    )
    study = Study.objects.published().filter(therapies__slug="rituximab").first()
    statement = curator_api.post(
        "/api/v1/statements/",
        {
            "key": "api-test-statement",
            "therapy": "rituximab",
            "text": "A claim.",
            "studies": [study.pk],
        },
        format="json",
    )
    assert statement.status_code == 201, statement.json()
    assert statement.json()["studies"] == [study.pk]
    empty = curator_api.post(
        "/api/v1/statements/",
        {"key": "empty", "therapy": "rituximab", "text": "Unsupported."},
        format="json",
    )
    assert empty.status_code == 400


def test_malformed_json_is_400_and_other_media_415(curator_api):
    response = curator_api.post(STUDIES, "{not json", content_type="application/json")
    assert response.status_code == 400
    response = curator_api.post(STUDIES, "a=b", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_publishing_a_study_of_an_unpublished_reference_is_refused_with_its_name(
    curator_api, editor_api
):
    from core.choices import ReviewStatus

    study = curator_api.post(STUDIES, new_study(), format="json").json()
    reference = Reference.objects.get(number=study["reference"]["number"])
    Reference.objects.filter(pk=reference.pk).update(status=ReviewStatus.DRAFT)
    url = f"{STUDIES}{study['id']}/"
    curator_api.post(f"{url}submit/", {}, format="json", **if_match(curator_api, url))
    refused = editor_api.post(
        f"{url}publish/", {"comment": "Checked."}, format="json", **if_match(editor_api, url)
    )
    assert refused.status_code == 409
    assert "publish them first" in refused.json()["detail"]
    assert str(reference)[:40] in refused.json()["detail"]
    assert Study.objects.get(pk=study["id"]).status == ReviewStatus.SUBMITTED


def test_a_statement_citing_the_source_review_is_written_back_as_read(editor_api):
    """The corpus's statements cite the review itself (a reference without a number); the
    write format took numbered references only, so sending a statement back as read was a
    400 and its references could not be edited without dropping that link."""
    statement = Statement.objects.filter(references__role="source_review").order_by("pk").first()
    Statement.objects.filter(pk=statement.pk).update(status=ReviewStatus.DRAFT)
    url = f"/api/v1/statements/{statement.pk}/"
    read = editor_api.get(url)
    body = {k: read.json()[k] for k in ["key", "therapy", "text", "studies", "references"]}
    response = editor_api.put(url, body, format="json", HTTP_IF_MATCH=read["ETag"])
    assert response.status_code == 200, response.json()
    assert sorted(statement.references.values_list("pk", flat=True)) == sorted(body["references"])
