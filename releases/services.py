"""Making a release: freeze the published corpus, in one transaction, as checksummed files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F

from core.formats import FORMATS
from evidence import fhir
from evidence.exports import studies_csv
from evidence.models import Study
from evidence.selectors import evidence_cutoff
from references.formats import WRITERS
from references.models import Reference
from releases import snapshot
from releases.models import Release, ReleaseArtefact, validate_version

CORPUS = "corpus.json"


class ReleaseError(Exception):
    """The release could not be made; the message says why."""


@dataclass(frozen=True)
class Artefact:
    name: str
    media_type: str
    content: str


def checksum(content: str) -> tuple[str, int]:
    data = content.encode("utf-8")
    return hashlib.sha256(data).hexdigest(), len(data)


def _artefacts(version: str) -> tuple[list[Artefact], dict]:
    # Absolute links when the site's address is configured; else paths relative to it.
    base_url = getattr(settings, "MYOEVIDENCE_SITE_URL", "").rstrip("/")
    corpus = snapshot.published_corpus(version)
    studies = Study.objects.published().order_by("pk")
    references = (
        Reference.objects.published()
        .with_authors()
        .order_by(F("number").asc(nulls_last=True), "bibtex_key")
    )
    # Media types from the site's table of formats (core.formats), as the pages and the API
    # serve them; the names are part of the release's citation and never change.
    return [
        Artefact(CORPUS, FORMATS["json"].media_type, snapshot.as_json(corpus)),
        Artefact(
            "studies.csv",
            FORMATS["csv"].media_type,
            "".join(studies_csv(studies, base_url=base_url)),
        ),
        Artefact(
            "references.bib", FORMATS["bibtex"].media_type, "".join(WRITERS["bibtex"](references))
        ),
        Artefact(
            "references.csl.json",
            FORMATS["csljson"].media_type,
            "".join(WRITERS["csljson"](references)),
        ),
        Artefact(
            "fhir-bundle.json", FORMATS["fhir"].media_type, "".join(fhir.full_bundle(base_url))
        ),
    ], corpus


def make_release(
    *, version: str, notes: str = "", then: Callable[[Release], None] | None = None
) -> Release:
    """Freeze the published corpus as release ``version`` (new and valid, else ReleaseError).

    ``then(release)`` runs inside the same transaction (``make_release --ship`` writes the
    files there), so that if it fails no release is left behind.
    """
    try:
        validate_version(version)
    except ValidationError as exc:
        raise ReleaseError(exc.messages[0]) from None
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            # Every artefact read from one moment of the database, while curators edit on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if Release.objects.filter(version=version).exists():
            raise ReleaseError(
                f"Release {version} exists already; releases never change, "
                "so choose the next version number."
            )
        artefacts, corpus = _artefacts(version)
        release = Release(
            version=version,
            notes=notes,
            counts=snapshot.counts(corpus),
            evidence_cutoff=evidence_cutoff().iso or "",
        )
        # Made from this database's published corpus: it is exactly this release right now.
        release.current_since = release.created_at
        release.full_clean()
        release.save()
        for artefact in artefacts:
            sha256, size = checksum(artefact.content)
            ReleaseArtefact(
                release=release,
                name=artefact.name,
                media_type=artefact.media_type,
                content=artefact.content,
                sha256=sha256,
                size=size,
            ).save()
        if then is not None:
            then(release)
    return release
