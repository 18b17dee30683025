"""The minimal pages show the corpus."""

import pytest
from django.urls import reverse

from references.models import Reference

pytestmark = pytest.mark.django_db


def test_home_shows_counts(client):
    response = client.get("/")
    assert response.status_code == 200
    n = Reference.objects.published().count()
    assert f"{n} references".encode() in response.content


def test_reference_pages(client):
    response = client.get(reverse("references:reference_list"))
    assert "Oddis CV, Reed AM, Aggarwal R, et al." in response.content.decode()
    detail = client.get("/references/1/")
    assert detail.status_code == 200
    assert "https://pubmed.ncbi.nlm.nih.gov/23124935/" in detail.content.decode()
    assert client.get("/references/999/").status_code == 404
    assert client.get("/references/nonsense/").status_code == 404


def test_admin_registers_every_model(admin_client):
    for url in [
        "references/reference",
        "references/author",
        "therapies/therapy",
        "therapies/drugclass",
        "therapies/therapyrationale",
        "evidence/study",
        "evidence/outcome",
        "evidence/provenance",
        "evidence/statement",
        "evidence/diseasesubtype",
    ]:
        assert admin_client.get(f"/admin/{url}/").status_code == 200, url
