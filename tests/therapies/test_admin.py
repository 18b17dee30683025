"""The therapies admin: pages for curators and editors; a therapy shows its studies and
statements."""

import pytest
from django.urls import reverse

from core.workflow import CURATORS, EDITORS
from tests.factories import staff
from therapies.models import DrugClass, Therapy, TherapyRationale

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("group", [CURATORS, EDITORS])
def test_every_page_opens(client, group):
    client.force_login(staff("someone", group))
    pages = {
        "therapies_therapy": Therapy.objects.get(slug="rituximab").pk,
        "therapies_drugclass": DrugClass.objects.first().pk,
        "therapies_therapyrationale": TherapyRationale.objects.first().pk,
    }
    for name, pk in pages.items():
        for url in [
            reverse(f"admin:{name}_changelist"),
            reverse(f"admin:{name}_add"),
            reverse(f"admin:{name}_change", args=[pk]),
            reverse(f"admin:{name}_history", args=[pk]),
        ]:
            assert client.get(url).status_code == 200, url


def test_a_therapy_shows_its_studies_and_statements(client):
    client.force_login(staff("curator", CURATORS))
    therapy = Therapy.objects.get(slug="rituximab")
    page = client.get(reverse("admin:therapies_therapy_change", args=[therapy.pk]))
    text = page.content.decode()
    for study in therapy.studies.all():
        assert reverse("admin:evidence_study_change", args=[study.pk]) in text
    for statement in therapy.statements.all():
        assert reverse("admin:evidence_statement_change", args=[statement.pk]) in text


def test_the_therapy_changelist_query_count_is_pinned(client, django_assert_max_num_queries):
    client.force_login(staff("editor", EDITORS))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("admin:therapies_therapy_changelist")).status_code == 200


def test_autocomplete_finds_therapies_by_brand_name(client):
    client.force_login(staff("curator", CURATORS))
    response = client.get(
        "/admin/autocomplete/",
        {
            "term": "Rituxan",
            "app_label": "evidence",
            "model_name": "study",
            "field_name": "therapies",
        },
    )
    assert response.status_code == 200
    assert "Rituximab" in response.content.decode()
