"""Rendered fragments per content generation (core.caching.fragments, {% fragment %}), the
pages assembled from them and the API pages kept the same way (core.caching.data.value_for):
reused only for the same parts and the same rights, and old after any content change."""

import pytest
from django.template import Context, Template
from django.test import Client

from core.caching import generation
from core.caching.fragments import fragment
from core.choices import ReviewStatus
from evidence.choices import ResultDirection, StudyDesign
from evidence.models import Study
from references.models import Reference
from therapies.models import Therapy

pytestmark = pytest.mark.django_db

DRAFT_LABEL = "Unpublished fragment probe"


@pytest.fixture(autouse=True)
def fragments_on(cache_mode, settings):
    # Whatever MYOEVIDENCE_TEST_CACHES says: the page cache off (every page rendered), the data
    # cache, which holds the fragments, on.
    settings.MYOEVIDENCE_PAGE_CACHE_SECONDS = 0
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 300


def committed(django_capture_on_commit_callbacks):
    """A block whose content changes count as committed (the generation moves on)."""
    return django_capture_on_commit_callbacks(execute=True)


def counter():
    calls = []

    def render():
        calls.append(1)
        return f"<p>{len(calls)}</p>"

    return render


def test_a_fragment_is_rendered_once_per_generation_and_parts(django_capture_on_commit_callbacks):
    render = counter()
    assert fragment("probe", (1, "a"), render) == "<p>1</p>"
    assert fragment("probe", (1, "a"), render) == "<p>1</p>"
    assert fragment("probe", (1, "b"), render) == "<p>2</p>"
    assert fragment("other", (1, "a"), render) == "<p>3</p>"
    with committed(django_capture_on_commit_callbacks):
        generation.content_changed()
    assert fragment("probe", (1, "a"), render) == "<p>4</p>"


def test_without_the_data_cache_every_fragment_is_rendered(settings):
    settings.MYOEVIDENCE_DATA_CACHE_SECONDS = 0
    render = counter()
    assert fragment("probe", (1,), render) == "<p>1</p>"
    assert fragment("probe", (1,), render) == "<p>2</p>"


def test_readers_share_a_fragment_by_their_rights_not_by_who_they_are(curator):
    from django.contrib.auth.models import AnonymousUser, User

    render = counter()
    reader = User.objects.create_user("reader")  # signed in, but no editorial rights
    assert fragment("probe", (AnonymousUser(),), render) == "<p>1</p>"
    assert fragment("probe", (reader,), render) == "<p>1</p>"
    assert fragment("probe", (curator,), render) == "<p>2</p>"


def test_a_part_without_a_key_is_an_error_not_a_shared_fragment():
    with pytest.raises(TypeError, match="no key for an argument of type object"):
        fragment("probe", (object(),), counter())


def test_the_template_tag_keys_by_its_parts_and_keeps_escaping():
    template = Template('{% load caching %}{% fragment "t" n %}{{ value }}{% endfragment %}')
    assert template.render(Context({"n": 1, "value": "<b>"})) == "&lt;b&gt;"
    # Same parts: the stored fragment, even though the value differs (parts must name all).
    assert template.render(Context({"n": 1, "value": "other"})) == "&lt;b&gt;"
    assert template.render(Context({"n": 2, "value": "other"})) == "other"


def test_a_fragment_is_not_kept_inside_a_transaction_that_changed_content():
    # pytest-django's transaction is open and this write is not committed: its own pages must
    # show it, and nothing built on it may be kept for others.
    generation.content_changed()
    render = counter()
    assert fragment("probe", (1,), render) == "<p>1</p>"
    assert fragment("probe", (1,), render) == "<p>2</p>"


@pytest.fixture
def draft_study(django_capture_on_commit_callbacks):
    with committed(django_capture_on_commit_callbacks):
        study = Study.objects.create(
            key="fragment-probe",
            reference=Reference.objects.published().order_by("number").first(),
            label=DRAFT_LABEL,
            design=StudyDesign.GUIDELINE,
            result=ResultDirection.values[0],
            summary="Draft.",
            status=ReviewStatus.DRAFT,
        )
        study.therapies.add(Therapy.objects.get(slug="rituximab"))
    return study


PAGES = [
    "/studies/?design=guideline",
    "/therapies/rituximab/?design=guideline",
    "/search/?q=fragment+probe",
    "/api/v1/studies/?design=guideline",  # an API page is kept per generation too
]


@pytest.mark.parametrize("url", PAGES)
def test_a_curators_fragments_never_reach_a_reader(
    url, client, curator, draft_study, django_capture_on_commit_callbacks
):
    assert DRAFT_LABEL in client.get(url).content.decode()
    assert DRAFT_LABEL in client.get(url).content.decode()  # from the fragments
    assert DRAFT_LABEL not in Client().get(url).content.decode()
    # Deleted: the change reaches the curator's next view at once.
    with committed(django_capture_on_commit_callbacks):
        draft_study.delete()
    assert DRAFT_LABEL not in client.get(url).content.decode()


def test_the_reader_sees_a_published_change_on_the_next_view(
    client, django_capture_on_commit_callbacks
):
    url = "/therapies/rituximab/"
    therapy = Therapy.objects.get(slug="rituximab")
    before = client.get(url).content.decode()
    assert "A summary written after the first view" not in before
    with committed(django_capture_on_commit_callbacks):
        Therapy.objects.filter(pk=therapy.pk).update(
            review_summary="A summary written after the first view"
        )
        generation.content_changed()  # update() sends no signal: said by hand, as the docs ask
    assert "A summary written after the first view" in client.get(url).content.decode()
