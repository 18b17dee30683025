"""Releases as files: ``releases/<version>/release.json`` (what the release says of itself,
checksums included) and each artefact under ``files/``, byte for byte.

The same layout serves two purposes:

* the corpus backup (``export_corpus`` writes it, ``load_corpus`` restores it);
* the releases shipped with the product: ``fixtures/releases/<version>/`` is written by
  ``make_release --ship`` and installed by ``load_corpus`` like any other fixture.

Shipping a release as a backup of itself (rather than as a ``make_release`` run at install time)
is what makes it citable: every installation holds the same bytes, made once, and the loader
refuses files whose SHA-256 differs from the manifest. Running the loader again finds the
release here with the same checksums and changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone

from releases import snapshot
from releases.models import Release, ReleaseArtefact
from releases.services import CORPUS, checksum

FOLDER = "releases"
META = "release.json"


def release_files(release: Release) -> dict[str, str]:
    """The files of one release, by path relative to the folder that holds ``releases/``."""
    artefacts = sorted(release.artefacts.all(), key=lambda a: a.name)
    folder = f"{FOLDER}/{release.version}"
    meta = {
        "version": release.version,
        "created_at": release.created_at.isoformat(),
        "evidence_cutoff": release.evidence_cutoff,
        "counts": release.counts,
        "notes": release.notes,
        "artefacts": [
            {"name": a.name, "media_type": a.media_type, "sha256": a.sha256, "size": a.size}
            for a in artefacts
        ],
    }
    files = {f"{folder}/{META}": json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True)}
    files[f"{folder}/{META}"] += "\n"
    for artefact in artefacts:
        files[f"{folder}/files/{artefact.name}"] = artefact.content
    return files


def export_files() -> dict[str, str]:
    files = {}
    for release in Release.objects.prefetch_related("artefacts").order_by("created_at", "pk"):
        files.update(release_files(release))
    return files


class ShipError(Exception):
    """The release could not be written into the fixtures; the message says why."""


def ship(release: Release, directory: Path) -> Path:
    """Write ``release`` into ``directory/releases/<version>/`` (the fixtures), never over an
    existing copy: a shipped release is as frozen as the release itself."""
    target = Path(directory) / FOLDER / release.version
    if target.exists():
        raise ShipError(f"{target} exists already; a shipped release is never rewritten.")
    for name, text in release_files(release).items():
        path = Path(directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, not text mode: the artefacts' line ends (CSV's CRLF) are kept exactly.
        path.write_bytes(text.encode("utf-8"))
    return target


def _read(meta_path: Path) -> tuple[dict, dict[str, str]]:
    """The manifest and the artefacts' texts; ValueError/OSError/KeyError/TypeError if
    unreadable."""
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    contents = {}
    for artefact in meta["artefacts"]:
        name = artefact["name"]
        # A manifest names files in its own folder only (no "../", no sub-folders).
        if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
            raise ValueError(f"artefact name {name!r} is not a plain file name")
        contents[name] = (meta_path.parent / "files" / name).read_bytes().decode("utf-8")
    return meta, contents


def _verify(meta_path: Path, meta: dict, contents: dict[str, str]) -> list[str]:
    """Each file's SHA-256 and size as the manifest says, and the counts as corpus.json has."""
    problems = []
    for artefact in meta["artefacts"]:
        sha256, size = checksum(contents[artefact["name"]])
        if sha256 != artefact["sha256"] or size != artefact["size"]:
            problems.append(
                f"{meta_path.parent}/files/{artefact['name']}: its SHA-256 does not match "
                f"{META} (the file was changed; expected {artefact['sha256']}, found {sha256}). "
                "A release is never changed: restore the file as released."
            )
    if CORPUS in contents and not problems:
        try:
            counted = snapshot.counts(json.loads(contents[CORPUS]))
        except (ValueError, KeyError, TypeError):
            counted = None
        if counted != meta["counts"]:
            problems.append(
                f"{meta_path}: its counts do not match {CORPUS} (the manifest was changed)."
            )
    return problems


class _Corpus:
    """This database's published corpus as ``corpus.json`` text, computed once if needed."""

    def __init__(self):
        self.corpus = None

    def matches(self, version: str, text: str) -> bool:
        if self.corpus is None:
            self.corpus = snapshot.published_corpus()
        return snapshot.as_json({**self.corpus, "version": version}) == text


def load_files(directory: Path) -> list[str]:
    """Install the releases of ``directory`` (a backup, or the fixtures); a release already
    here must be the same one. Returns the problems (the caller then saves nothing)."""
    problems: list[str] = []
    folder = Path(directory) / FOLDER
    if not folder.is_dir():
        return problems
    corpus = _Corpus()
    for meta_path in sorted(folder.glob(f"*/{META}")):
        try:
            meta, contents = _read(meta_path)
            version = meta["version"]
            found = _verify(meta_path, meta, contents)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{meta_path}: not a release description we can read ({exc})")
            continue
        problems += found
        existing = Release.objects.filter(version=version).first()
        if existing is not None:
            stored = dict(existing.artefacts.values_list("name", "sha256"))
            if stored != {a["name"]: a["sha256"] for a in meta["artefacts"]}:
                problems.append(
                    f"{meta_path}: release {version} exists here with other "
                    "content; releases never change"
                )
            continue
        if problems:
            continue
        release = Release(
            version=version,
            created_at=datetime.fromisoformat(meta["created_at"]),
            evidence_cutoff=meta["evidence_cutoff"],
            counts=meta["counts"],
            notes=meta["notes"],
        )
        # The corpus loaded just before (same transaction) is this release, byte for byte: no
        # published change since, from now on. Otherwise the footer says there are changes.
        if CORPUS in contents and corpus.matches(version, contents[CORPUS]):
            release.current_since = timezone.now()
        try:
            release.full_clean()
        except ValidationError as exc:
            problems.extend(f"{meta_path}: {message}" for message in exc.messages)
            continue
        release.save()
        for artefact in meta["artefacts"]:
            ReleaseArtefact(
                release=release,
                name=artefact["name"],
                media_type=artefact["media_type"],
                content=contents[artefact["name"]],
                sha256=artefact["sha256"],
                size=artefact["size"],
            ).save()
    return problems
