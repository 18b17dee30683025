"""The releases in fixtures/releases/ ship with the product and load_corpus installs them.

The test database is a fresh database on which tests/conftest.py ran load_corpus once, as an
installation does: the releases found there are the shipped ones. The latest one froze the
corpus the fixtures load; the earlier ones froze what the fixtures were when they were made.
"""

import hashlib
import json
import shutil

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from evidence.models import Study
from releases import snapshot
from releases.backup import load_files
from releases.changelog import changelog
from releases.models import Release
from releases.services import _artefacts, make_release
from tests.releases.shipped import LATEST, NEXT, SHIPPED

pytestmark = pytest.mark.django_db

FOLDER = settings.MYOEVIDENCE_FIXTURES / "releases"
# The checksums readers cite (docs/releases.md): pinned here, so that a change of a shipped
# file together with its manifest still fails a test.
CHECKSUMS = {
    "2026.12.0": {
        "corpus.json": "15ce2c8e881c24c2f7cd56893ba95d95fc0c9af1101c3cf71607450ae9b1ac76",
        "fhir-bundle.json": "b9d379bf1a40e034438b2da9ce89f4bf00cb5c23579ee9b7ce289ae9ed8dfe6e",
        "references.bib": "56d0bba32b13ca247b1b1afae6a7526a0f539cdd7f0a673eee440ebb8ee75f37",
        "references.csl.json": "e29262a8710524d878d3340bc17061c809aa872dd9eae9e71c38cd1e82fefc37",
        "studies.csv": "6dd29b9541812674eada5028b4333007f637a111c423edbc6a52c6ce3cbb4a83",
    },
    "2026.12.1": {
        "corpus.json": "39b9f194e2feb6599d4f501b20f953d2f37c4dc0d11453b8fbc51dda33f04c07",
        "fhir-bundle.json": "05021f95223ee8388bdae398fad05b6b16dafdc6baeeb80a15e706865829c6ab",
        "references.bib": "56d0bba32b13ca247b1b1afae6a7526a0f539cdd7f0a673eee440ebb8ee75f37",
        "references.csl.json": "e29262a8710524d878d3340bc17061c809aa872dd9eae9e71c38cd1e82fefc37",
        "studies.csv": "6dd29b9541812674eada5028b4333007f637a111c423edbc6a52c6ce3cbb4a83",
    },
}


@pytest.fixture
def fixtures_copy(tmp_path):
    target = tmp_path / "fixtures"
    shutil.copytree(settings.MYOEVIDENCE_FIXTURES, target)
    return target


def shipped_bytes(version: str, name: str) -> bytes:
    return (FOLDER / version / "files" / name).read_bytes()


def test_every_shipped_release_has_its_checksums_pinned_here():
    assert SHIPPED == list(CHECKSUMS)


@pytest.mark.parametrize("version", SHIPPED)
def test_the_shipped_files_have_the_published_checksums(version):
    meta = json.loads((FOLDER / version / "release.json").read_text())
    assert meta["version"] == version
    assert {a["name"]: a["sha256"] for a in meta["artefacts"]} == CHECKSUMS[version]
    for name, sha256 in CHECKSUMS[version].items():
        assert hashlib.sha256(shipped_bytes(version, name)).hexdigest() == sha256, name


@pytest.mark.parametrize("version", SHIPPED)
def test_a_fresh_database_gets_the_shipped_release_byte_for_byte(version):
    release = Release.objects.get(version=version)
    meta = json.loads((FOLDER / version / "release.json").read_text())
    assert dict(release.artefacts.values_list("name", "sha256")) == CHECKSUMS[version]
    for artefact in release.artefacts.all():
        assert artefact.content.encode("utf-8") == shipped_bytes(version, artefact.name)
    assert release.created_at.isoformat() == meta["created_at"]
    assert (
        release.counts
        == meta["counts"]
        == snapshot.counts(json.loads(shipped_bytes(version, "corpus.json")))
    )
    assert release.evidence_cutoff == "2015"
    # Loaded onto the very corpus it froze, it has no published change since (the footer says
    # so); once the fixtures move on, it has.
    same = snapshot.as_json(snapshot.published_corpus(version)).encode() == shipped_bytes(
        version, "corpus.json"
    )
    assert (release.current_since is not None) == same


def test_only_the_latest_shipped_release_is_the_corpus_the_fixtures_load():
    """An earlier release froze the fixtures as they were then: 2026.12.0 holds the certainty
    table before the synthesis corrections that 2026.12.1 was made for."""
    current = {r.version: r.current_since is not None for r in Release.objects.all()}
    assert current == {version: version == LATEST for version in SHIPPED}
    before = json.loads(shipped_bytes("2026.12.0", "corpus.json"))
    after = json.loads(shipped_bytes("2026.12.1", "corpus.json"))
    assert before["studies"] == after["studies"]
    assert before["references"] == after["references"]
    assert before["certainty"] != after["certainty"]


def test_the_latest_release_lists_the_corrected_patient_counts():
    """2026.12.1 changed no rating, only counts and reasons: its changelog says which counts."""
    log = changelog(Release.objects.get(version="2026.12.1"))
    assert log.since == "2026.12.0"
    assert {(c.kind, c.what, c.text) for c in log.changes} == {
        ("changed", "certainty", "Rituximab × ASS: patients 220 → 25"),
        ("changed", "certainty", "Rituximab × IMNM: patients 8 → not reported"),
    }


def test_the_latest_shipped_release_is_what_make_release_makes_from_the_fixtures():
    """make_release's own artefact writer, run on the corpus the fixtures load, gives the
    shipped bytes. Once the fixtures move on (a curated change), the corpus is no longer this
    release, and the next release, not this one, holds the change."""
    if Release.objects.get(version=LATEST).current_since is None:
        pytest.skip(f"the fixtures changed since {LATEST} was made: ship the next release")
    made, _ = _artefacts(LATEST)
    assert {a.name for a in made} == set(CHECKSUMS[LATEST])
    for artefact in made:
        assert artefact.content.encode("utf-8") == shipped_bytes(LATEST, artefact.name)


def test_loading_again_changes_nothing():
    before = {
        r.version: (r.pk, r.current_since, list(r.artefacts.values_list("pk", "name", "sha256")))
        for r in Release.objects.all()
    }
    call_command("load_corpus", verbosity=0)
    call_command("load_corpus", verbosity=0)
    after = {
        r.version: (r.pk, r.current_since, list(r.artefacts.values_list("pk", "name", "sha256")))
        for r in Release.objects.all()
    }
    assert after == before and set(after) == set(SHIPPED)


def test_a_tampered_file_is_refused_with_a_clear_message(fixtures_copy):
    path = fixtures_copy / "releases" / LATEST / "files" / "studies.csv"
    path.write_bytes(path.read_bytes().replace(b"Rituximab", b"Rituximob", 1))
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(fixtures_copy), verbosity=0)
    message = str(info.value)
    assert "nothing was saved" in message
    assert f"releases/{LATEST}/files/studies.csv: its SHA-256 does not match" in message
    assert CHECKSUMS[LATEST]["studies.csv"] in message  # what it should be
    assert (
        Release.objects.get(version=LATEST).artefacts.get(name="studies.csv").sha256
        == (CHECKSUMS[LATEST]["studies.csv"])
    )


def test_a_tampered_manifest_is_refused(fixtures_copy):
    path = fixtures_copy / "releases" / LATEST / "release.json"
    meta = json.loads(path.read_text())
    meta["counts"]["studies"] += 1
    path.write_text(json.dumps(meta))
    with pytest.raises(CommandError, match="its counts do not match corpus.json"):
        call_command("load_corpus", str(fixtures_copy), verbosity=0)
    meta["counts"]["studies"] -= 1
    meta["artefacts"][0]["name"] = "../../references.bib"
    path.write_text(json.dumps(meta))
    with pytest.raises(CommandError, match="is not a plain file name"):
        call_command("load_corpus", str(fixtures_copy), verbosity=0)


def _as_new_version(directory, version):
    """The shipped release's files under another version (for a database that lacks it),
    its corpus.json replaced by this database's published corpus, and the manifest
    recomputed as make_release would write it."""
    folder = directory / "releases" / version
    shutil.copytree(FOLDER / LATEST, folder)
    corpus = snapshot.published_corpus(version)
    text = snapshot.as_json(corpus).encode("utf-8")
    (folder / "files" / "corpus.json").write_bytes(text)
    meta = json.loads((folder / "release.json").read_text())
    meta["version"] = version
    meta["counts"] = snapshot.counts(corpus)
    # Made after the shipped one, so that the footer names it.
    meta["created_at"] = timezone.now().isoformat()
    for artefact in meta["artefacts"]:
        if artefact["name"] == "corpus.json":
            artefact["sha256"], artefact["size"] = hashlib.sha256(text).hexdigest(), len(text)
    (folder / "release.json").write_text(json.dumps(meta))
    return folder


def test_footer_after_loading_a_release_says_whether_the_corpus_differs(client, tmp_path):
    # A release of exactly this database's published corpus: no changes since.
    _as_new_version(tmp_path / "same", "2026.12.5")
    assert load_files(tmp_path / "same") == []
    assert Release.objects.get(version="2026.12.5").current_since is not None
    page = client.get("/").content.decode()
    assert "2026.12.5" in page and "no published changes since" in page

    # A release of a corpus that differs from this one: changes since, whatever the times
    # (update() leaves the study's modification time as it was).
    _as_new_version(tmp_path / "other", "2026.12.6")
    study = Study.objects.published().first()
    Study.objects.filter(pk=study.pk).update(summary="Changed before the release was loaded.")
    assert load_files(tmp_path / "other") == []
    assert Release.objects.get(version="2026.12.6").current_since is None
    page = client.get("/").content.decode()
    assert "2026.12.6" in page and "published changes have been made since" in page


@pytest.mark.parametrize("version", SHIPPED)
def test_release_page_lists_its_downloads(client, version):
    make_release(version=NEXT)  # a later one: a shipped page is not only the latest
    page = client.get(f"/releases/{version}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"MyoEvidence data release {version}" in text
    for name, sha256 in CHECKSUMS[version].items():
        assert f'href="/releases/{version}/{name}"' in text, name
        assert sha256 in text
        download = client.get(f"/releases/{version}/{name}")
        assert download.status_code == 200
        assert b"".join(download) == shipped_bytes(version, name), name
    listing = client.get("/api/v1/releases/").json()["results"]
    assert [r["version"] for r in listing] == [NEXT, *reversed(SHIPPED)]
