"""Write the whole corpus to a directory that ``load_corpus`` restores, identically.

The format is the fixtures' (see ``evidence.services.corpus``): ``references.bib`` (written by
``references.formats``, so the importer and the loader read it back exactly), the JSON files,
and ``VERSION``. On top of the fixtures it records what curators add in the admin: each entry's
review status (``reference_status.json`` for references, whose BibTeX has no such field; a
``status`` on every other row), the ``verified`` flags of studies and provenance with who
verified them and when, and explicit statement order.

Not written: ids, timestamps, who submitted or reviewed an entry and the editors' comments,
users, and the history. A restore therefore starts a fresh history; a PostgreSQL dump
(``pg_dump``) is the backup that keeps everything, this one is readable, diffable and
portable between databases.

Output is deterministic (sorted, no dates), so two exports of the same data are byte for byte
the same, and a backup's diff shows what changed.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F

from evidence.models import (
    Arm,
    CertaintyOverride,
    DiseaseSubtype,
    Outcome,
    OutcomeArmResult,
    Provenance,
    Statement,
    Study,
    StudySubtypeCount,
    Trial,
)
from evidence.services.corpus import OVERRIDES_FILE, STATUS_FILE, TRIALS_FILE
from evidence.services.studies import (
    ARM_FIELDS,
    OUTCOME_FIELDS,
    PROVENANCE_FIELDS,
    STUDY_FIELDS,
)
from references.formats import bibtex_entry
from references.models import Author, Reference
from therapies.models import DrugClass, Therapy, TherapyRationale

STUDIES_FILE = "studies/corpus.json"
# Everything export_corpus writes; --force replaces only these (and studies/*.json).
WRITTEN = (
    "references.bib",
    STATUS_FILE,
    "subtypes.json",
    "therapies.json",
    "rationale.json",
    "statements.json",
    "VERSION",
    TRIALS_FILE,
    OVERRIDES_FILE,
)
BIB_HEADER = (
    "% MyoEvidence corpus export (python manage.py export_corpus); restore with load_corpus.\n"
    "% Custom fields: reviewnumber (citation number in the review), kind, role, pmid, pmcid,\n"
    "% idsources (where identifiers were seen), annote (known problems, curators' notes).\n"
    "% Review status of each entry: reference_status.json.\n\n"
)


# Other apps' files written into the backup (the releases app's frozen artefacts), as
# callables returning {relative path: text}; registered by those apps' AppConfig.ready so that
# evidence imports none of them. Their folders are replaced by --force like the corpus files.
EXTRA_EXPORTS: list = []
EXTRA_FOLDERS = ("releases",)


class ExportError(Exception):
    """The corpus could not be written; the message says why in one sentence."""


@dataclass
class ExportReport:
    counts: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        return [f"{kind}: {count}" for kind, count in self.counts.items()]


def export_corpus(directory: Path, *, force: bool = False) -> ExportReport:
    """Write every entry (whatever its status) to ``directory`` from one consistent snapshot."""
    directory = Path(directory)
    _prepare(directory, force=force)
    report = ExportReport()
    with transaction.atomic():
        _snapshot()
        files = {
            "references.bib": _references_bib(report),
            STATUS_FILE: _json(
                {
                    "references": {
                        key: status
                        for key, status in Reference.objects.order_by("bibtex_key").values_list(
                            "bibtex_key", "status"
                        )
                    }
                }
            ),
            "subtypes.json": _json({"subtypes": _subtypes(report)}),
            "therapies.json": _json(_therapies(report)),
            "rationale.json": _json({"rationale": _rationale(report)}),
            STUDIES_FILE: _json({"studies": _studies(report)}),
            "statements.json": _json({"statements": _statements(report)}),
            TRIALS_FILE: _json({"trials": _trials(report)}),
            OVERRIDES_FILE: _json({"overrides": _overrides(report)}),
            "VERSION": _version(),
        }
        for extra in EXTRA_EXPORTS:
            files.update(extra())
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        # Bytes, not text mode: a frozen artefact's line ends (CSV's CRLF) are kept exactly.
        path.write_bytes(text.encode("utf-8"))
    return report


def _prepare(directory: Path, *, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise ExportError(f"{directory} exists and is not a directory.")
    if directory.is_dir() and any(directory.iterdir()):
        if not force:
            raise ExportError(
                f"{directory} is not empty; choose a new directory, or use "
                "--force to replace the corpus files in it."
            )
        for name in WRITTEN:
            (directory / name).unlink(missing_ok=True)
        for folder in ("studies", *EXTRA_FOLDERS):
            if (directory / folder).is_dir():
                shutil.rmtree(directory / folder)
    directory.mkdir(parents=True, exist_ok=True)


def _snapshot() -> None:
    """On PostgreSQL read every table as of one moment, even while curators keep editing."""
    if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _version() -> str:
    path = Path(settings.MYOEVIDENCE_FIXTURES) / "VERSION"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return "unversioned\n"


def _reference_name(reference: Reference) -> int | str:
    """How the JSON files name a reference: its number in the review, else its BibTeX key."""
    return reference.number or reference.bibtex_key


def _references_bib(report: ExportReport) -> str:
    references = Reference.objects.with_authors().order_by(
        F("number").asc(nulls_last=True), "bibtex_key"
    )
    entries = [bibtex_entry(reference) for reference in references]
    report.counts["references"] = len(entries)
    return BIB_HEADER + "".join(entries)


def _subtypes(report: ExportReport) -> list[dict]:
    rows = [
        {
            "code": s.code,
            "slug": s.slug,
            "name": s.name,
            "abbreviation": s.abbreviation,
            "synonyms": s.synonyms,
            "description": s.description,
            "order": s.order,
            "status": s.status,
        }
        for s in DiseaseSubtype.objects.order_by("order", "code")
    ]
    report.counts["subtypes"] = len(rows)
    return rows


def _therapies(report: ExportReport) -> dict:
    classes = [
        {
            "slug": c.slug,
            "name": c.name,
            "mechanism": c.mechanism,
            "order": c.order,
            "status": c.status,
        }
        for c in DrugClass.objects.order_by("order", "slug")
    ]
    therapies = [
        {
            "slug": t.slug,
            "name": t.name,
            "drug_class": t.drug_class.slug,
            "mechanism": t.mechanism,
            "synonyms": t.synonyms,
            "brand_names": t.brand_names,
            "route": t.route,
            "position": t.position,
            "secondary_position": t.secondary_position,
            "review_summary": t.review_summary,
            "status": t.status,
        }
        for t in Therapy.objects.select_related("drug_class").order_by("slug")
    ]
    report.counts.update({"drug classes": len(classes), "therapies": len(therapies)})
    return {"drug_classes": classes, "therapies": therapies}


def _rationale(report: ExportReport) -> list[dict]:
    links = TherapyRationale.objects.select_related("therapy", "reference").order_by(
        "therapy__slug", F("reference__number").asc(nulls_last=True), "reference__bibtex_key"
    )
    rows = [
        {
            "reference": _reference_name(link.reference),
            "therapy": link.therapy.slug,
            "pathway": link.pathway,
            "note": link.note,
        }
        for link in links
    ]
    report.counts["rationale links"] = len(rows)
    return rows


def _studies(report: ExportReport) -> list[dict]:
    studies = (
        Study.objects.select_related("reference", "trial")
        .prefetch_related(
            "therapies",
            "subtypes",
            "outcomes__arm_results__arm",
            "provenance",
            "arms__therapy",
            "subtype_counts__subtype",
        )
        .order_by(F("reference__number").asc(nulls_last=True), "reference__bibtex_key", "key")
    )
    rows = []
    for study in studies:
        row = {
            "key": study.key,
            "reference": _reference_name(study.reference),
            "therapies": sorted(t.slug for t in study.therapies.all()),
            "subtypes": sorted(s.code for s in study.subtypes.all()),
        }
        row.update({name: getattr(study, name) for name in STUDY_FIELDS})
        row.update(verified=study.verified, status=study.status)
        outcomes = sorted(study.outcomes.all(), key=lambda o: (o.order, o.pk))
        row["outcomes"] = [{name: getattr(o, name) for name in OUTCOME_FIELDS} for o in outcomes]
        _synthesis_fields(study, row, outcomes)
        row["provenance"] = [
            {
                **{name: getattr(p, name) for name in PROVENANCE_FIELDS},
                "verified": p.verified,
                "verified_by": p.verified_by,
                "verified_at": p.verified_at.isoformat() if p.verified_at else None,
            }
            for p in sorted(study.provenance.all(), key=lambda p: p.pk)
        ]
        report.counts["outcomes"] += len(row["outcomes"])
        report.counts["provenance records"] += len(row["provenance"])
        rows.append(row)
    report.counts["studies"] = len(rows)
    return rows


def _synthesis_fields(study: Study, row: dict, outcomes: list[Outcome]) -> None:
    """The trial, arms, per-subtype counts and per-arm results of a study (issue 13)."""
    row["trial"] = study.trial.key if study.trial else None
    arms = sorted(study.arms.all(), key=lambda a: (a.order, a.pk))
    row["arms"] = [
        {
            name: (getattr(a.therapy, "slug", None) if name == "therapy" else getattr(a, name))
            for name in ARM_FIELDS
        }
        for a in arms
    ]
    row["subtype_counts"] = {
        c.subtype.code: c.n
        for c in sorted(study.subtype_counts.all(), key=lambda c: c.subtype.code)
    }
    for outcome, data in zip(outcomes, row["outcomes"], strict=True):
        results = sorted(outcome.arm_results.all(), key=lambda r: (r.arm.order, r.arm.pk))
        if results:
            data["arm_results"] = [
                {"arm": r.arm.label, "responders": r.responders, "n": r.n, "value": r.value}
                for r in results
            ]


def _trials(report: ExportReport) -> list[dict]:
    rows = [
        {
            "key": t.key,
            "name": t.name,
            "kind": t.kind,
            "registry_ids": t.registry_ids,
            "registry_source_url": t.registry_source_url,
            "note": t.note,
            "status": t.status,
        }
        for t in Trial.objects.order_by("key")
    ]
    report.counts["trials"] = len(rows)
    return rows


def _overrides(report: ExportReport) -> list[dict]:
    rows = [
        {
            "therapy": o.therapy.slug,
            "subtype": o.subtype.code,
            "measure": o.measure,
            "certainty": o.certainty,
            "reason": o.reason,
            "status": o.status,
        }
        for o in CertaintyOverride.objects.select_related("therapy", "subtype").order_by(
            "therapy__slug", "subtype__code", "measure"
        )
    ]
    report.counts["certainty overrides"] = len(rows)
    return rows


def _statements(report: ExportReport) -> list[dict]:
    statements = (
        Statement.objects.select_related("therapy")
        .prefetch_related("studies", "references")
        .order_by("order", "therapy__slug", "key")
    )
    rows = []
    for statement in statements:
        references = sorted(
            statement.references.all(),
            key=lambda r: (r.number is None, r.number or 0, r.bibtex_key),
        )
        rows.append(
            {
                "key": statement.key,
                "therapy": statement.therapy.slug,
                "text": statement.text,
                "studies": sorted(s.key for s in statement.studies.all()),
                "references": [_reference_name(r) for r in references],
                "order": statement.order,
                "status": statement.status,
            }
        )
    report.counts["statements"] = len(rows)
    return rows


def table_counts() -> dict[str, int]:
    """Rows per content table (many-to-many links included) and entries per review status:
    what a restore must reproduce."""
    models = [
        Reference,
        Author,
        DrugClass,
        Therapy,
        TherapyRationale,
        DiseaseSubtype,
        Study,
        Outcome,
        Provenance,
        Statement,
        Trial,
        Arm,
        StudySubtypeCount,
        OutcomeArmResult,
        CertaintyOverride,
    ]
    counts = {model._meta.label: model._default_manager.count() for model in models}
    for model, name in (
        (Study, "therapies"),
        (Study, "subtypes"),
        (Statement, "studies"),
        (Statement, "references"),
    ):
        through = getattr(model, name).through
        counts[through._meta.label] = through._default_manager.count()
    for model in (Reference, Therapy, Study, Statement, Trial, CertaintyOverride):
        for status, count in (
            model._default_manager.values_list("status").annotate(n=Count("pk")).order_by("status")
        ):
            counts[f"{model._meta.label} {status}"] = count
    counts["verified studies"] = Study.objects.filter(verified=True).count()
    counts["verified provenance"] = Provenance.objects.filter(verified=True).count()
    return counts
