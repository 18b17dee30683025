"""Data releases: frozen, checksummed, never changed; changelogs between two releases."""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command

from core.choices import ReviewStatus
from evidence.models import CertaintyOverride, Study
from references.models import Reference
from releases.changelog import changelog
from releases.models import Release, ReleaseArtefact, ReleaseImmutable
from releases.services import make_release
from tests.releases.shipped import AFTER, LATEST, NEXT, SHIPPED

pytestmark = pytest.mark.django_db

NAMES = {"corpus.json", "studies.csv", "references.bib", "references.csl.json", "fhir-bundle.json"}


def artefact(release, name):
    return release.artefacts.get(name=name)


def test_make_release_freezes_every_format_with_checksums():
    call_command("make_release", NEXT, verbosity=0)
    release = Release.objects.get(version=NEXT)
    assert set(release.artefacts.values_list("name", flat=True)) == NAMES
    for a in release.artefacts.all():
        data = a.content.encode("utf-8")
        assert a.sha256 == hashlib.sha256(data).hexdigest() and a.size == len(data)
    corpus = json.loads(artefact(release, "corpus.json").content)
    assert len(corpus["studies"]) == Study.objects.published().count()
    assert release.counts["studies"] == Study.objects.published().count()
    assert release.evidence_cutoff
    json.loads(artefact(release, "fhir-bundle.json").content)["entry"]
    json.loads(artefact(release, "references.csl.json").content)


def test_refuses_existing_or_invalid_version():
    make_release(version=NEXT)
    with pytest.raises(CommandError, match="exists already"):
        call_command("make_release", NEXT)
    for bad in ("v1", "2026.13.0", "2026.12", ""):
        with pytest.raises(CommandError, match="not a release version"):
            call_command("make_release", bad)
    # The shipped releases (fixtures/releases/) and the one made here; no other.
    assert set(Release.objects.values_list("version", flat=True)) == {*SHIPPED, NEXT}


def test_release_is_immutable_and_a_later_edit_goes_to_the_next():
    first = make_release(version=NEXT)
    checksums = dict(first.artefacts.values_list("name", "sha256"))
    study = Study.objects.published().first()
    Study.objects.filter(pk=study.pk).update(summary="A summary written after the release.")
    second = make_release(version=AFTER)
    first.refresh_from_db()
    assert dict(first.artefacts.values_list("name", "sha256")) == checksums
    assert "after the release" not in artefact(first, "corpus.json").content
    assert "after the release" in artefact(second, "corpus.json").content
    assert artefact(second, "corpus.json").sha256 != checksums["corpus.json"]
    # Nothing can change or delete a release or its files.
    first.notes = "changed"
    with pytest.raises(ReleaseImmutable):
        first.save()
    one = first.artefacts.first()
    one.content = "tampered"
    with pytest.raises(ReleaseImmutable):
        one.save()
    with pytest.raises(ReleaseImmutable):
        one.delete()
    with pytest.raises(ReleaseImmutable):
        first.delete()
    with pytest.raises(ReleaseImmutable):
        ReleaseArtefact.objects.filter(release=first).update(content="x")
    with pytest.raises(ReleaseImmutable):
        Release.objects.all().delete()


def test_release_never_contains_unpublished_content():
    study = Study.objects.published().first()
    Study.objects.filter(pk=study.pk).update(
        status=ReviewStatus.DRAFT, label="Secret draft study label"
    )
    reference = (
        Reference.objects.exclude(studies__status=ReviewStatus.PUBLISHED)
        .filter(status=ReviewStatus.PUBLISHED)
        .exclude(statements__status=ReviewStatus.PUBLISHED)
        .first()
    )
    Reference.objects.filter(pk=reference.pk).update(
        status=ReviewStatus.DRAFT, title="Secret draft reference title"
    )
    release = make_release(version=NEXT)
    for a in release.artefacts.all():
        assert "Secret draft" not in a.content, a.name
    corpus = json.loads(artefact(release, "corpus.json").content)
    assert study.key not in {s["key"] for s in corpus["studies"]}
    assert f'"id": "ref-{reference.pk}"' not in artefact(release, "fhir-bundle.json").content


def test_changelog_lists_exactly_the_differences():
    make_release(version=NEXT)
    study = Study.objects.published().filter(sample_size__isnull=False).first()
    old_size = study.sample_size
    Study.objects.filter(pk=study.pk).update(sample_size=old_size + 7)
    withdrawn = (
        Study.objects.published()
        .exclude(pk=study.pk)
        .exclude(statements__status=ReviewStatus.PUBLISHED)
        .first()
    )
    Study.objects.filter(pk=withdrawn.pk).update(status=ReviewStatus.DRAFT)
    second = make_release(version=AFTER)
    log = changelog(second)
    assert log.since == NEXT
    studies = [c for c in log.changes if c.what == "study"]
    texts = {c.text for c in studies}
    assert f"Study {study.label}: patients: {old_size} → {old_size + 7}" in texts
    assert f"Study {withdrawn.label} ({withdrawn.design}) withdrawn" in texts
    # One study changed under each of its therapies, one withdrawn: nothing else about studies.
    assert {(c.kind, c.text) for c in studies} == {
        ("changed", f"Study {study.label}: patients: {old_size} → {old_size + 7}"),
        ("withdrawn", f"Study {withdrawn.label} ({withdrawn.design}) withdrawn"),
    }
    assert not [c for c in log.changes if c.what in ("reference", "statement", "trial")]
    groups = {
        name
        for name, changes in log.groups.items()
        if any(c.what == "study" and study.label in c.text for c in changes)
    }
    assert groups == {t.name for t in study.therapies.all()}


def test_certainty_change_is_worded_for_clinicians():
    make_release(version=NEXT)
    override = CertaintyOverride.objects.published().select_related("therapy", "subtype").first()
    old = override.certainty
    new = "high" if old != "high" else "low"
    CertaintyOverride.objects.filter(pk=override.pk).update(certainty=new, reason="A new trial.")
    log = changelog(make_release(version=AFTER))
    certainty = [c for c in log.changes if c.what == "certainty"]
    assert len(certainty) == 1
    label = override.subtype.abbreviation or override.subtype.name
    old_label = dict(CertaintyOverride._meta.get_field("certainty").choices)[old].lower()
    new_label = dict(CertaintyOverride._meta.get_field("certainty").choices)[new].lower()
    assert certainty[0].text.startswith(
        f"{override.therapy.name} × {label}: certainty {old_label} → {new_label} because"
    )
    assert "a new trial" in certainty[0].text.lower()
    assert log.groups[override.therapy.name] == certainty


def test_pages_api_and_downloads(client, django_user_model):
    release = make_release(version=NEXT, notes="First release.")
    page = client.get("/releases/")
    assert page.status_code == 200 and NEXT.encode() in page.content
    page = client.get(f"/releases/{NEXT}/")
    text = page.content.decode()
    assert f"MyoEvidence data release {NEXT}" in text
    assert artefact(release, "corpus.json").sha256 in text
    download = client.get(f"/releases/{NEXT}/references.bib")
    assert download.content == artefact(release, "references.bib").content.encode()
    assert client.get(f"/releases/{NEXT}/nope.txt").status_code == 404
    data = client.get("/api/v1/releases/").json()
    assert data["results"][0]["artefacts"][0]["sha256"]
    detail = client.get(f"/api/v1/releases/{NEXT}/").json()
    # Made from the corpus the latest shipped release froze: nothing changed since it.
    assert detail["changelog"] == {"since": LATEST, "groups": []}
    client.force_login(django_user_model.objects.create_superuser("root"))
    for method in (client.post, client.put, client.patch, client.delete):
        url = "/api/v1/releases/" if method is client.post else f"/api/v1/releases/{NEXT}/"
        assert method(url, {}, HTTP_IF_MATCH="*").status_code == 405  # read only, for all
    client.logout()
    home = client.get("/").content.decode()
    assert "Data release" in home and NEXT in home
    assert "no published changes since" in home


def test_footer_says_when_published_changes_exist_since(client):
    make_release(version=NEXT)
    study = Study.objects.published().first()
    study.summary = study.summary + " Updated."
    study.save()
    assert "published changes have been made since" in client.get("/").content.decode()
