"""Atom feeds of published changes: they parse, reflect a publish at once, and never show
what was never published."""

import feedparser
import pytest

from core.choices import ReviewStatus
from evidence.models import Study
from therapies.models import Therapy

pytestmark = pytest.mark.django_db


def feed(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == "atom10"
    return parsed


@pytest.fixture
def study():
    return (
        Study.objects.published()
        .exclude(statements__status=ReviewStatus.PUBLISHED)
        .filter(therapies__isnull=False)
        .first()
    )


def test_publish_shows_and_drafts_never_do(client, study):
    original = study.label
    therapy, subtype = study.therapies.first(), study.subtypes.first()
    study.status, study.label = ReviewStatus.DRAFT, "Draft-only label never published"
    study.save()
    titles = [e.title for e in feed(client, "/feeds/changes.atom").entries]
    assert f"Study withdrawn: {original}" in titles
    assert not any("never published" in t for t in titles)

    study.status, study.label = ReviewStatus.PUBLISHED, "Republished with a new label"
    study.save()
    for url in (
        "/feeds/changes.atom",
        f"/feeds/therapies/{therapy.slug}.atom",
        f"/feeds/subtypes/{subtype.slug}.atom",
    ):
        parsed = feed(client, url)
        first = parsed.entries[0]
        assert first.title == "Study published: Republished with a new label"
        assert first.link.endswith(study.get_absolute_url())
        assert "was published" in first.summary
        assert not any("never published" in e.title + e.summary for e in parsed.entries)
    other = Therapy.objects.published().exclude(studies=study).filter(studies__isnull=False).first()
    titles = [e.title for e in feed(client, f"/feeds/therapies/{other.slug}.atom").entries]
    assert "Study published: Republished with a new label" not in titles


def test_change_of_published_entry_is_an_entry(client, study):
    study.summary += " A correction."
    study.save()
    first = feed(client, "/feeds/changes.atom").entries[0]
    assert first.title == f"Study changed: {study.label}"


def test_unknown_or_unpublished_subject_is_404(client):
    therapy = Therapy.objects.published().first()
    Therapy.objects.filter(pk=therapy.pk).update(status=ReviewStatus.DRAFT)
    assert client.get(f"/feeds/therapies/{therapy.slug}.atom").status_code == 404
    assert client.get("/feeds/subtypes/no-such.atom").status_code == 404


def test_pages_link_their_feed(client, study):
    therapy, subtype = study.therapies.first(), study.subtypes.first()
    for page, feed_url in (
        ("/", "/feeds/changes.atom"),
        (therapy.get_absolute_url(), f"/feeds/therapies/{therapy.slug}.atom"),
        (subtype.get_absolute_url(), f"/feeds/subtypes/{subtype.slug}.atom"),
    ):
        html = client.get(page).content.decode()
        assert f'<link rel="alternate" type="application/atom+xml" href="{feed_url}"' in html


def entries(client, url):
    return feed(client, url).entries


def test_trial_changes_are_in_the_feeds_of_its_therapies_and_subtypes(client):
    from evidence.models import Trial

    trial = Trial.objects.published().filter(publications__status=ReviewStatus.PUBLISHED).first()
    study = trial.publications.published().filter(therapies__isnull=False).first()
    therapy, subtype = study.therapies.first(), study.subtypes.first()
    trial.note += " Checked against the registry record."
    trial.save()
    title = f"Trial changed: {trial.name}"
    for url in (
        "/feeds/changes.atom",
        f"/feeds/therapies/{therapy.slug}.atom",
        f"/feeds/subtypes/{subtype.slug}.atom",
    ):
        first = entries(client, url)[0]
        assert first.title == title, url
        assert first.link.endswith(
            trial.publications.published().order_by("pk").first().get_absolute_url()
        )
    other = (
        Therapy.objects.published()
        .exclude(studies__trial=trial)
        .filter(studies__isnull=False)
        .first()
    )
    assert title not in [e.title for e in entries(client, f"/feeds/therapies/{other.slug}.atom")]


def test_certainty_rating_changes_are_worded_for_clinicians(client):
    from evidence.models import CertaintyOverride, DiseaseSubtype

    override = CertaintyOverride.objects.published().select_related("therapy", "subtype").first()
    cell = f"{override.therapy.name} × {override.subtype.abbreviation or override.subtype.name}"
    old = override.get_certainty_display().lower()
    override.certainty = "high" if override.certainty != "high" else "low"
    override.reason = "A second randomised trial agreed."
    override.save()
    new = override.get_certainty_display().lower()
    for url in (
        "/feeds/changes.atom",
        f"/feeds/therapies/{override.therapy.slug}.atom",
        f"/feeds/subtypes/{override.subtype.slug}.atom",
    ):
        first = entries(client, url)[0]
        assert first.title == f"Certainty changed: {cell}", url
        assert first.summary == (
            f"{cell}: certainty {old} → {new} because a second randomised trial agreed."
        )
        assert first.link.endswith(f"/therapies/{override.therapy.slug}/{override.subtype.slug}/")
    other = DiseaseSubtype.objects.published().exclude(pk=override.subtype_id).first()
    titles = [e.title for e in entries(client, f"/feeds/subtypes/{other.slug}.atom")]
    assert f"Certainty changed: {cell}" not in titles

    override.status = ReviewStatus.DRAFT
    override.reason = "Draft reason nobody published."
    override.save()
    parsed = entries(client, "/feeds/changes.atom")
    assert parsed[0].title == f"Certainty rating withdrawn: {cell}"
    assert not any("nobody published" in e.summary for e in parsed)


def test_a_draft_study_linking_a_therapy_adds_nothing_to_its_feed(client):
    """A feed is scoped by what readers saw: a draft study's links put its (published)
    reference in no therapy's feed."""
    from references.models import Reference

    reference = Reference.objects.create(
        title="Quokka cohort in myositis",
        bibtex_key="quokka2099",
        year=2099,
        journal="J Probe",
        status=ReviewStatus.PUBLISHED,
    )
    url = "/feeds/therapies/rituximab.atom"
    assert "Quokka" not in client.get(url).content.decode()
    draft = Study.objects.create(
        key="quokka-draft", reference=reference, label="Draft", design="rct_parallel"
    )
    draft.therapies.add(Therapy.objects.get(slug="rituximab"))
    assert "Quokka" not in client.get(url).content.decode()
    # Once published, the study and its reference are the therapy's news.
    Study.objects.filter(pk=draft.pk).update(status=ReviewStatus.PUBLISHED)
    draft.refresh_from_db()
    draft.save()  # a published history record, linked to rituximab
    assert "Reference published: Quokka cohort" in client.get(url).content.decode()


def test_a_withdrawn_rating_keeps_the_names_readers_saw(client):
    """A certainty rating and its therapy withdrawn, then the therapy renamed as a draft: the
    rating's items still name (and link) the therapy as it was published."""
    from evidence.models import CertaintyOverride, DiseaseSubtype
    from therapies.models import DrugClass

    therapy = Therapy.objects.create(
        name="Probe therapy",
        slug="probe-therapy",
        position="investigational",
        drug_class=DrugClass.objects.get(slug="anti-cd20"),
        status=ReviewStatus.PUBLISHED,
    )
    rating = CertaintyOverride.objects.create(
        therapy=therapy,
        subtype=DiseaseSubtype.objects.get(code="dm"),
        certainty="low",
        reason="Probe.",
        status=ReviewStatus.PUBLISHED,
    )
    rating.status = ReviewStatus.WITHDRAWN
    rating.save()
    therapy.status = ReviewStatus.WITHDRAWN
    therapy.save()
    therapy.name, therapy.slug = "Quokkamab (unpublished rename)", "quokkamab-secret"
    therapy.save()
    parsed = entries(client, "/feeds/changes.atom")
    assert parsed[0].title == "Certainty rating withdrawn: Probe therapy × DM"
    assert parsed[0].link.endswith("/therapies/probe-therapy/dermatomyositis/")
    text = client.get("/feeds/changes.atom").content.decode()
    assert "Quokkamab" not in text and "quokkamab-secret" not in text
