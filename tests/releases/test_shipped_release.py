"""The first release, 2026.12.0, ships with the fixtures and load_corpus installs it.

The test database is a fresh database on which tests/conftest.py ran load_corpus once, as an
installation does: the release found there is the shipped one.
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
from releases.models import Release
from releases.services import _artefacts, make_release

pytestmark = pytest.mark.django_db

VERSION = "2026.12.0"
SHIPPED = settings.MYOEVIDENCE_FIXTURES / "releases" / VERSION
# The checksums readers cite (docs/releases.md): pinned here, so that a change of a shipped
# file together with its manifest still fails a test.
CHECKSUMS = {
    "corpus.json": "15ce2c8e881c24c2f7cd56893ba95d95fc0c9af1101c3cf71607450ae9b1ac76",
    "fhir-bundle.json": "b9d379bf1a40e034438b2da9ce89f4bf00cb5c23579ee9b7ce289ae9ed8dfe6e",
    "references.bib": "56d0bba32b13ca247b1b1afae6a7526a0f539cdd7f0a673eee440ebb8ee75f37",
    "references.csl.json": "e29262a8710524d878d3340bc17061c809aa872dd9eae9e71c38cd1e82fefc37",
    "studies.csv": "6dd29b9541812674eada5028b4333007f637a111c423edbc6a52c6ce3cbb4a83",
}


@pytest.fixture
def fixtures_copy(tmp_path):
    target = tmp_path / "fixtures"
    shutil.copytree(settings.MYOEVIDENCE_FIXTURES, target)
    return target


def shipped_bytes(name: str) -> bytes:
    return (SHIPPED / "files" / name).read_bytes()


def test_the_shipped_files_have_the_published_checksums():
    meta = json.loads((SHIPPED / "release.json").read_text())
    assert meta["version"] == VERSION
    assert {a["name"]: a["sha256"] for a in meta["artefacts"]} == CHECKSUMS
    for name, sha256 in CHECKSUMS.items():
        assert hashlib.sha256(shipped_bytes(name)).hexdigest() == sha256, name


def test_a_fresh_database_gets_the_shipped_release_byte_for_byte():
    release = Release.objects.get(version=VERSION)
    meta = json.loads((SHIPPED / "release.json").read_text())
    assert dict(release.artefacts.values_list("name", "sha256")) == CHECKSUMS
    for artefact in release.artefacts.all():
        assert artefact.content.encode("utf-8") == shipped_bytes(artefact.name), artefact.name
    assert release.created_at.isoformat() == meta["created_at"]
    assert (
        release.counts
        == meta["counts"]
        == snapshot.counts(json.loads(shipped_bytes("corpus.json")))
    )
    assert release.evidence_cutoff == "2015"
    # Loaded onto the very corpus it froze, it has no published change since (the footer says
    # so); once the fixtures move on, it has.
    same = snapshot.as_json(snapshot.published_corpus(VERSION)).encode() == shipped_bytes(
        "corpus.json"
    )
    assert (release.current_since is not None) == same


def test_the_shipped_release_is_what_make_release_makes_from_the_fixtures():
    """make_release's own artefact writer, run on the corpus the fixtures load, gives the
    shipped bytes. Once the fixtures move on (a curated change), the corpus is no longer this
    release, and the next release, not this one, holds the change."""
    if Release.objects.get(version=VERSION).current_since is None:
        pytest.skip("the fixtures changed since 2026.12.0 was made: ship the next release")
    made, _ = _artefacts(VERSION)
    assert {a.name for a in made} == set(CHECKSUMS)
    for artefact in made:
        assert artefact.content.encode("utf-8") == shipped_bytes(artefact.name), artefact.name


def test_loading_again_changes_nothing():
    release = Release.objects.get(version=VERSION)
    before = list(release.artefacts.values_list("pk", "name", "sha256", "size"))
    call_command("load_corpus", verbosity=0)
    call_command("load_corpus", verbosity=0)
    assert Release.objects.filter(version=VERSION).count() == 1
    again = Release.objects.get(version=VERSION)
    assert (again.pk, again.current_since) == (release.pk, release.current_since)
    assert list(again.artefacts.values_list("pk", "name", "sha256", "size")) == before


def test_a_tampered_file_is_refused_with_a_clear_message(fixtures_copy):
    path = fixtures_copy / "releases" / VERSION / "files" / "studies.csv"
    path.write_bytes(path.read_bytes().replace(b"Rituximab", b"Rituximob", 1))
    with pytest.raises(CommandError) as info:
        call_command("load_corpus", str(fixtures_copy), verbosity=0)
    message = str(info.value)
    assert "nothing was saved" in message
    assert f"releases/{VERSION}/files/studies.csv: its SHA-256 does not match" in message
    assert CHECKSUMS["studies.csv"] in message  # what it should be
    assert (
        Release.objects.get(version=VERSION).artefacts.get(name="studies.csv").sha256
        == (CHECKSUMS["studies.csv"])
    )


def test_a_tampered_manifest_is_refused(fixtures_copy):
    path = fixtures_copy / "releases" / VERSION / "release.json"
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
    shutil.copytree(SHIPPED, folder)
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


def test_release_page_lists_its_downloads(client):
    make_release(version="2026.12.1")  # a later one: the shipped page is not only the latest
    page = client.get(f"/releases/{VERSION}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert f"MyoEvidence data release {VERSION}" in text
    for name, sha256 in CHECKSUMS.items():
        assert f'href="/releases/{VERSION}/{name}"' in text, name
        assert sha256 in text
        download = client.get(f"/releases/{VERSION}/{name}")
        assert download.status_code == 200
        assert b"".join(download) == shipped_bytes(name), name
    listing = client.get("/api/v1/releases/").json()["results"]
    assert [r["version"] for r in listing] == ["2026.12.1", VERSION]
