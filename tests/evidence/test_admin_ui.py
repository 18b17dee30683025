"""The admin for curators (issue 17): facts as checkboxes, readable history, no inline style."""

import re

import pytest
from django.contrib.auth import get_user_model

from evidence.admin import ProvenanceForm
from evidence.models import Provenance, Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw-12345678")
    client.force_login(user)
    return client


def test_facts_taken_are_checkboxes_that_keep_unusual_recorded_values():
    provenance = Provenance.objects.exclude(facts=[]).first()
    provenance.facts = ["sample_size", "journal/volume/pages"]
    form = ProvenanceForm(instance=provenance)
    html = str(form["facts"])
    assert 'type="checkbox"' in html and 'value="sample_size"' in html
    assert 'value="journal/volume/pages"' in html
    assert re.search(r'value="sample_size"[^>]*checked', html)
    assert "<textarea" not in html


def test_study_change_form_has_no_json_box_for_facts(admin_client):
    study = Study.objects.filter(provenance__isnull=False).first()
    page = admin_client.get(f"/admin/evidence/study/{study.pk}/change/").content.decode()
    assert 'name="provenance-0-facts" value="outcomes"' in page or re.search(
        r'<input type="checkbox" name="provenance-0-facts"', page
    )
    assert not re.search(r'<textarea[^>]*name="provenance-0-facts"', page)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/evidence/study/{pk}/history/",
        "/admin/evidence/study/{pk}/change/",
        "/admin/references/reference/{ref}/history/",
    ],
)
def test_admin_history_has_no_inline_style_and_no_none(admin_client, path):
    study = Study.objects.get(key="ref01-rim-trial")
    study.summary = study.summary + " Edited."
    study.reviewed_by = None
    study.save()
    page = admin_client.get(path.format(pk=study.pk, ref=study.reference_id)).content.decode()
    assert " style=" not in page and "<style" not in page
    assert "Deleted user (pk=None)" not in page
    assert not re.search(r"<td>\s*None\s*</td>", page)


def test_provenance_change_form_keeps_its_study_field(admin_client):
    provenance = Provenance.objects.first()
    page = admin_client.get(f"/admin/evidence/provenance/{provenance.pk}/change/")
    assert page.status_code == 200
    assert 'name="study"' in page.content.decode()
