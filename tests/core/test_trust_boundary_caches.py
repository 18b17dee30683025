"""The publish step with the page and data caches and refresh ahead on, as in production:
a withdrawal is gone from cached and refreshed pages, a curator's pages never reach readers,
and a draft is told apart from nothing by no answer."""

import pytest
from django.test import Client

from core.choices import ReviewStatus
from evidence.models import DiseaseSubtype, Study
from references.models import Reference
from tests.core.test_api_writes import if_match
from tests.core.test_refresh_ahead import turn_refresh_on
from therapies.models import Therapy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_throttle")]

LABEL = "Wallaby cohort"
PAGE = "/studies/?design=guideline"


@pytest.fixture
def caches_and_refresh_on(cache_mode, settings):
    turn_refresh_on(settings, page_cache_seconds=300)


def _published_study() -> Study:
    study = Study.objects.create(
        key="wallaby-probe",
        reference=Reference.objects.get(number=1),
        label=LABEL,
        design="guideline",
        result="benefit",
        summary="Probe.",
        status=ReviewStatus.PUBLISHED,
    )
    study.therapies.add(Therapy.objects.get(slug="rituximab"))
    study.subtypes.add(DiseaseSubtype.objects.get(code="dm"))
    return study


def test_a_withdrawn_study_is_gone_from_cached_and_refreshed_pages(
    caches_and_refresh_on, editor_api
):
    study = _published_study()
    reader = Client()
    assert LABEL in reader.get(PAGE).content.decode()
    assert reader.get(f"/studies/{study.pk}/").status_code == 200
    url = f"/api/v1/studies/{study.pk}/withdraw/"
    response = editor_api.post(
        url,
        {"comment": "probe"},
        format="json",
        **if_match(editor_api, f"/api/v1/studies/{study.pk}/"),
    )
    assert response.status_code == 200, response.content[:300]
    assert LABEL not in reader.get(PAGE).content.decode()
    assert reader.get(f"/studies/{study.pk}/").status_code == 404
    assert LABEL not in reader.get("/api/v1/studies/?design=guideline").content.decode()


def test_a_curators_page_is_never_served_to_readers(caches_and_refresh_on, client, curator):
    Study.objects.create(
        key="wallaby-draft",
        reference=Reference.objects.get(number=1),
        label=LABEL,
        design="guideline",
        result="benefit",
    )
    assert LABEL in client.get(PAGE).content.decode()  # the curator's view
    assert LABEL in client.get("/api/v1/studies/?design=guideline").content.decode()
    reader = Client()
    assert LABEL not in reader.get(PAGE).content.decode()
    assert LABEL not in reader.get("/api/v1/studies/?design=guideline").content.decode()
    assert LABEL not in reader.get("/").content.decode()


def test_the_replay_after_a_curators_session_write_renders_as_a_reader(
    caches_and_refresh_on, client, curator
):
    """A curator signed in with a session (not a token) creates a draft through the API: the
    hot page replayed after it must be the reader's, and be what the reader is served."""
    reader = Client()
    assert LABEL not in reader.get(PAGE).content.decode()
    from tests.core.test_api_writes import new_study

    created = client.post(
        "/api/v1/studies/",
        new_study(label=LABEL, design="guideline"),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content[:300]
    assert LABEL not in reader.get(PAGE).content.decode()


def test_the_openapi_schema_names_no_draft_subtype_even_after_a_curator_read_it(client, curator):
    DiseaseSubtype.objects.create(code="wallaby", slug="wallaby-myositis", name="Wallaby myositis")
    assert client.get("/api/schema/?format=json").status_code == 200
    schema = Client().get("/api/schema/?format=json").content.decode()
    assert "wallaby" not in schema.lower()


def test_a_draft_is_not_told_apart_from_nothing_by_its_api_error(curator):
    Therapy.objects.create(
        name="Wallabymab",
        slug="wallabymab",
        position="investigational",
        drug_class=Therapy.objects.get(slug="rituximab").drug_class,
    )
    reader = Client()
    draft = reader.get("/api/v1/therapies/wallabymab/")
    unknown = reader.get("/api/v1/therapies/no-such-mab/")
    assert draft.status_code == unknown.status_code == 404
    assert draft.json() == unknown.json()
    for url in (
        "/therapies/wallabymab/",
        "/feeds/therapies/wallabymab.atom",
        "/api/fhir/EvidenceVariable/therapy-wallabymab",
        "/api/fhir/Bundle/therapy-wallabymab",
    ):
        assert reader.get(url).status_code == 404, url


def test_a_narrowed_curators_api_page_is_not_shared_with_readers(caches_and_refresh_on):
    """A Curators group narrowed to no view permission on content (docs: "a group whose
    permissions were narrowed is respected") sees what readers see, so the data cache keys
    its API pages as a reader's; but is_curator() still gives it staff names."""
    from django.contrib.auth.models import Group, Permission

    from core.workflow import CURATORS
    from evidence.models import Provenance
    from tests.factories import client_for, staff

    rim = Study.objects.get(key="ref01-rim-trial")
    Provenance.objects.create(
        study=rim,
        source=Provenance._meta.get_field("source").choices[0][0],
        verified=True,
        verified_by="secret-staff-login",
    )
    Group.objects.get(name=CURATORS).permissions.remove(
        *Permission.objects.filter(codename__startswith="view_")
    )
    curator = client_for(staff("narrow", CURATORS))
    url = f"/api/v1/studies/?q={rim.label.split()[0]}"
    mine = curator.get(url)
    assert mine.status_code == 200
    reader = client_for()
    assert "secret-staff-login" not in reader.get(url).content.decode()
