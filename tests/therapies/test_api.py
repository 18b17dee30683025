"""Therapies and drug classes in the API."""

import csv
import io

import pytest

from tests.factories import client_for
from tests.helpers import content
from therapies.models import DrugClass, Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]


def test_therapy_detail_by_slug_with_terms_as_lists():
    data = client_for().get("/api/v1/therapies/rituximab/").json()
    therapy = Therapy.objects.get(slug="rituximab")
    assert data["name"] == therapy.name
    assert data["drug_class"] == therapy.drug_class.slug
    assert data["brand_names"] == therapy.brand_name_list
    assert data["study_count"] == therapy.studies.filter(status="published").count() > 0


def test_therapy_filters_search_and_csv():
    client = client_for()
    assert (
        client.get("/api/v1/therapies/", {"search": "Rituxan"}).json()["results"][0]["slug"]
        == "rituximab"
    )
    data = client.get("/api/v1/therapies/", {"drug_class": "tnf-inhibitor"}).json()
    assert (
        data["count"]
        == Therapy.objects.published().filter(drug_class__slug="tnf-inhibitor").count()
        > 0
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                content(
                    client.get(
                        "/api/v1/therapies/", {"drug_class": "tnf-inhibitor", "format": "csv"}
                    )
                ).decode()
            )
        )
    )
    assert len(rows) == data["count"]


def test_drug_classes_list_their_therapies():
    client = client_for()
    data = client.get("/api/v1/drug-classes/").json()
    assert data["count"] == DrugClass.objects.count()
    anti_cd20 = client.get("/api/v1/drug-classes/anti-cd20/").json()
    assert "rituximab" in anti_cd20["therapies"]
    assert client.get("/api/v1/drug-classes/none/").status_code == 404


def test_a_draft_therapy_is_hidden_from_anonymous_clients_but_not_from_staff():
    from tests.factories import staff

    Therapy.objects.filter(slug="abatacept").update(status="draft")
    assert client_for().get("/api/v1/therapies/abatacept/").status_code == 404
    staff = client_for(staff("ed", "Editors"))
    assert staff.get("/api/v1/therapies/abatacept/").json()["status"] == "draft"
