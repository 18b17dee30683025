"""The published corpus as one JSON document: the release's ``corpus.json`` and what the
changelog compares. Deterministic (sorted, no times), so the same corpus gives the same bytes
and the same checksum."""

from __future__ import annotations

import json
from collections import Counter

from django.db.models import F

from core.choices import ReviewStatus
from evidence.choices import Certainty, Direction
from evidence.models import Study
from evidence.selectors import evidence_matrix
from evidence.services import backup
from references.models import Reference
from therapies.models import Therapy

PUBLISHED = ReviewStatus.PUBLISHED
# Who verified a record and when is the curators' business, not part of what is published.
PRIVATE_PROVENANCE = ("verified_by", "verified_at")


def _reference(reference: Reference) -> dict:
    return {
        "key": reference.bibtex_key,
        "number": reference.number,
        "authors": [
            a.family + (f" {a.given}" if a.given else "") for a in reference.ordered_authors
        ],
        "title": reference.title,
        "journal": reference.journal,
        "year": reference.year,
        "volume": reference.volume,
        "issue": reference.issue,
        "pages": reference.pages,
        "doi": reference.doi,
        "pmid": reference.pmid,
        "pmcid": reference.pmcid,
        "kind": reference.kind,
        "role": reference.role,
    }


def _certainty() -> list[dict]:
    matrix = evidence_matrix(Study.objects.published(), therapies=Therapy.objects.published())
    rows = []
    for cell in matrix.cells.values():
        synthesis = cell.synthesis
        rows.append(
            {
                "therapy": cell.therapy.slug,
                "therapy_name": cell.therapy.name,
                "subtype": cell.subtype.code,
                "subtype_name": cell.subtype.abbreviation or cell.subtype.name,
                "certainty": synthesis.certainty,
                "certainty_label": Certainty(synthesis.certainty).label,
                "direction": synthesis.direction,
                "direction_label": Direction(synthesis.direction).label,
                "studies": synthesis.studies,
                "trials": synthesis.trials,
                "patients": synthesis.patients,
                "reasons": [r.text for r in synthesis.reasons],
            }
        )
    return sorted(rows, key=lambda r: (r["therapy"], r["subtype"]))


def published_corpus(version: str = "") -> dict:
    """Everything published: references, therapies, trials, studies, statements, certainty."""
    report = backup.ExportReport()
    studies = [row for row in backup._studies(report) if row["status"] == PUBLISHED]
    for row in studies:
        row.pop("status")
        row["provenance"] = [
            {k: v for k, v in p.items() if k not in PRIVATE_PROVENANCE} for p in row["provenance"]
        ]
    statements = [row for row in backup._statements(report) if row["status"] == PUBLISHED]
    trials = [row for row in backup._trials(report) if row["status"] == PUBLISHED]
    for row in (*statements, *trials):
        row.pop("status")
    references = [
        _reference(r)
        for r in Reference.objects.published()
        .with_authors()
        .order_by(F("number").asc(nulls_last=True), "bibtex_key")
    ]
    therapies = [
        {"slug": t.slug, "name": t.name} for t in Therapy.objects.published().order_by("slug")
    ]
    return {
        "version": version,
        "references": references,
        "therapies": therapies,
        "trials": trials,
        "studies": studies,
        "statements": statements,
        "certainty": _certainty(),
    }


def counts(corpus: dict) -> dict[str, int]:
    found = Counter(
        {
            name: len(corpus[name])
            for name in ("references", "therapies", "trials", "studies", "statements")
        }
    )
    found["outcomes"] = sum(len(s["outcomes"]) for s in corpus["studies"])
    found["rated cells"] = sum(
        1 for c in corpus["certainty"] if c["certainty"] != Certainty.INSUFFICIENT
    )
    return dict(found)


def as_json(corpus: dict) -> str:
    return json.dumps(corpus, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
