"""Validators that change whenever what a response shows changes (related rows included), and
writes that cannot be made blind (issue 12): no 304 for changed data, no lost update."""

import pytest

from core.caching import generation
from evidence.models import Outcome, Study
from tests.factories import client_for
from therapies.models import Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

STUDIES = "/api/v1/studies/"


@pytest.fixture
def study():
    return Study.objects.published().filter(outcomes__isnull=False).order_by("pk").first()


def edit_an_outcome(study):
    outcome = study.outcomes.order_by("pk").first()
    outcome.timepoint = "week 52 (corrected)"
    outcome.save()


def retitle_the_reference(study):
    reference = study.reference
    reference.title += " (corrected title)"
    reference.save()


def swap_a_therapy(study):
    other = Therapy.objects.exclude(pk__in=study.therapies.all()).order_by("pk").first()
    study.therapies.set([other])


RELATED_CHANGES = [edit_an_outcome, retitle_the_reference, swap_a_therapy]


@pytest.mark.parametrize("change", RELATED_CHANGES)
def test_a_study_etag_changes_with_its_related_rows(study, change):
    client = client_for()
    url = f"{STUDIES}{study.pk}/"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    change(study)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200  # was 304: the study row itself did not change
    assert response["ETag"] != etag


@pytest.mark.parametrize("change", RELATED_CHANGES)
@pytest.mark.parametrize("url", [STUDIES, f"{STUDIES}?format=csv"])
def test_a_list_etag_changes_with_related_rows(study, change, url):
    client = client_for()
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    change(study)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


@pytest.mark.parametrize("change", RELATED_CHANGES)
def test_a_related_change_bumps_the_generation_on_commit(
    study, change, django_capture_on_commit_callbacks
):
    before = generation.current()
    with django_capture_on_commit_callbacks(execute=True):
        change(study)
    assert generation.current() > before


def test_the_list_etag_follows_the_generation(study):
    """A change the history cannot see (``QuerySet.update()`` of a related row, followed by
    ``content_changed()``) still changes the list's ETag, through the generation."""
    client = client_for()
    etag = client.get(STUDIES)["ETag"]
    Outcome.objects.filter(study=study).update(timepoint="changed without signals")
    generation.content_changed()
    assert client.get(STUDIES, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_last_modified_covers_a_related_change(study):
    """A client sending only If-Modified-Since is not told "unchanged" after an outcome edit:
    Last-Modified of the study and of the list reach the outcome's own time."""
    from django.utils.http import parse_http_date

    client = client_for()
    edit_an_outcome(study)
    changed = int(study.outcomes.order_by("pk").first().modified.timestamp())
    for url in (f"{STUDIES}{study.pk}/", STUDIES):
        assert parse_http_date(client.get(url)["Last-Modified"]) >= changed, url


def test_a_write_without_if_match_is_428_with_an_explanation(curator_api, study):
    from core.choices import ReviewStatus

    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    url = f"{STUDIES}{study.pk}/"
    for response in (
        curator_api.patch(url, {"summary": "Blind."}, format="json"),
        curator_api.put(url, {"summary": "Blind."}, format="json"),
        curator_api.post(f"{url}submit/", {}, format="json"),
    ):
        assert response.status_code == 428
        assert response["Content-Type"].startswith("application/json")
        detail = response.json()["detail"]
        assert "If-Match" in detail and "GET" in detail and "ETag" in detail
    study.refresh_from_db()
    assert study.summary != "Blind." and study.status == ReviewStatus.DRAFT


@pytest.mark.parametrize("header", ["abc", "W/abc", '"unterminated', 'garbage, "x"', "**"])
def test_a_malformed_if_match_is_400_never_ignored(curator_api, study, header):
    from core.choices import ReviewStatus

    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    url = f"{STUDIES}{study.pk}/"
    response = curator_api.patch(url, {"summary": "Unquoted."}, format="json", HTTP_IF_MATCH=header)
    assert response.status_code == 400
    assert "If-Match" in response.json()["detail"]
    study.refresh_from_db()
    assert study.summary != "Unquoted."


def test_if_match_star_and_the_current_etag_are_accepted(curator_api, study):
    from core.choices import ReviewStatus

    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    url = f"{STUDIES}{study.pk}/"
    assert (
        curator_api.patch(
            url, {"summary": "Starred."}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )
    etag = curator_api.get(url)["ETag"]
    response = curator_api.patch(url, {"summary": "Matched."}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] == curator_api.get(url)["ETag"] != etag


def test_a_write_based_on_a_copy_before_a_related_change_is_412(curator_api, study):
    """The lost update of the issue: an outcome changed after the client read the study; the
    client's PATCH (sending the ETag it read) must not go through."""
    from core.choices import ReviewStatus

    Study.objects.filter(pk=study.pk).update(status=ReviewStatus.DRAFT)
    url = f"{STUDIES}{study.pk}/"
    etag = curator_api.get(url)["ETag"]
    edit_an_outcome(study)
    response = curator_api.patch(
        url, {"summary": "Based on an old copy."}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 412
    study.refresh_from_db()
    assert study.summary != "Based on an old copy."
