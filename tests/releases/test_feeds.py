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
