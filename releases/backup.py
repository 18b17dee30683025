"""Releases in the corpus backup: ``releases/<version>/release.json`` (what the release says
of itself, checksums included) and each artefact as a file, restored byte for byte."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from releases.models import Release, ReleaseArtefact
from releases.services import checksum

FOLDER = "releases"
META = "release.json"


def export_files() -> dict[str, str]:
    files = {}
    for release in Release.objects.prefetch_related("artefacts").order_by("created_at", "pk"):
        artefacts = sorted(release.artefacts.all(), key=lambda a: a.name)
        files[f"{FOLDER}/{release.version}/{META}"] = (
            json.dumps(
                {
                    "version": release.version,
                    "created_at": release.created_at.isoformat(),
                    "evidence_cutoff": release.evidence_cutoff,
                    "counts": release.counts,
                    "notes": release.notes,
                    "artefacts": [
                        {
                            "name": a.name,
                            "media_type": a.media_type,
                            "sha256": a.sha256,
                            "size": a.size,
                        }
                        for a in artefacts
                    ],
                },
                ensure_ascii=False,
                indent=2,
                sort_keys=True,
            )
            + "\n"
        )
        for artefact in artefacts:
            files[f"{FOLDER}/{release.version}/files/{artefact.name}"] = artefact.content
    return files


def load_files(directory: Path) -> list[str]:
    """Restore the releases of a backup; a release already here must be the same one."""
    problems: list[str] = []
    folder = Path(directory) / FOLDER
    if not folder.is_dir():
        return problems
    for meta_path in sorted(folder.glob(f"*/{META}")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            version = meta["version"]
            contents = {
                a["name"]: (meta_path.parent / "files" / a["name"]).read_bytes().decode("utf-8")
                for a in meta["artefacts"]
            }
        except (OSError, ValueError, KeyError) as exc:
            problems.append(f"{meta_path}: not a release description we can read ({exc})")
            continue
        for artefact in meta["artefacts"]:
            if checksum(contents[artefact["name"]])[0] != artefact["sha256"]:
                problems.append(
                    f"{meta_path.parent}/files/{artefact['name']}: its SHA-256 "
                    "does not match release.json (the file was changed)"
                )
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
