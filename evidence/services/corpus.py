"""Load the curated corpus (``fixtures/``) into the database, idempotently, in one transaction.

Files, in dependency order:
  subtypes.json, therapies.json        vocabularies
  references.bib                       the review's 60 references (BibTeX, source-exact)
  rationale.json                       mechanistic references -> therapies they support
  studies/*.json                       studies with outcomes and provenance
  statements.json                      the review's summary claims per therapy
  trials.json                          trials grouping publications (issue 13; before studies)
  certainty_overrides.json             curators' certainty for a cell, with the reason
Every problem in every file is collected, then the whole load is refused: nothing is saved.

Entries are loaded with the ``status`` given to ``load_corpus`` (published), unless a row says
its own ``status``; studies and provenance rows may carry their ``verified`` flags. A backup
written by ``export_corpus`` uses these, plus ``reference_status.json`` (BibTeX key -> status),
so that it restores every entry as it was (see ``evidence.services.backup``). Studies and
rationale name their reference by its number in the review or, if it has none, its BibTeX key.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction

from core.choices import ReviewStatus
from evidence.models import Study
from evidence.services.studies import (
    StudyDataError,
    upsert_certainty_override,
    upsert_statement,
    upsert_study,
    upsert_trial,
)
from evidence.services.subtypes import upsert_subtype
from references.bibtex import BibtexError, parse_bibtex
from references.models import Reference
from references.services import upsert_reference, validation_messages
from therapies.models import Therapy
from therapies.services import set_rationale, upsert_drug_class, upsert_therapy

# Optional: the review status of each reference, by BibTeX key (BibTeX has no field for it).
STATUS_FILE = "reference_status.json"


def get_reference(ident: int | str | None) -> Reference:
    """A reference named by its number in the review (a JSON number), or by its BibTeX key (a
    string), as statements.json already does."""
    if isinstance(ident, str) and ident:
        return Reference.objects.get(bibtex_key=ident)
    if isinstance(ident, int) and not isinstance(ident, bool):
        return Reference.objects.get(number=ident)
    raise StudyDataError(f"reference {ident!r} is neither a number in the review nor a key")


class CorpusError(Exception):
    """The corpus could not be loaded; ``problems`` names each file and entry at fault."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class LoadReport:
    created: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        return [f"{kind}: {self.total[kind]} loaded, {self.created[kind]} new"
                for kind in self.total]


class _Collector:
    def __init__(self):
        self.problems: list[str] = []

    def run(self, where: str, func, *args, **kwargs):
        """Call a service; turn its validation errors into a located problem."""
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            self.problems.extend(f"{where}: {msg}" for msg in validation_messages(exc))
        except (StudyDataError, ObjectDoesNotExist, KeyError, TypeError) as exc:
            self.problems.append(f"{where}: {exc}")
        return None


def _read_json(path: Path, problems: list[str]) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{path}: file is missing")
    except json.JSONDecodeError as exc:
        problems.append(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    return {}


def load_corpus(directory: Path, *, status: str = ReviewStatus.PUBLISHED) -> LoadReport:
    """Load every fixture in ``directory``.

    Raises ``CorpusError`` (saving nothing) on any problem.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise CorpusError([f"{directory}: not a directory"])
    report = LoadReport()
    out = _Collector()
    with transaction.atomic():
        _load_vocabularies(directory, out, report, status)
        _load_references(directory, out, report, status)
        _load_rationale(directory, out, report)
        _load_trials(directory, out, report, status)
        _load_studies(directory, out, report, status)
        _load_statements(directory, out, report, status)
        _load_certainty_overrides(directory, out, report, status)
        if out.problems:
            transaction.set_rollback(True)
    if out.problems:
        raise CorpusError(out.problems)
    return report


def _count(report: LoadReport, kind: str, existed: bool, result) -> None:
    if result is not None:
        report.total[kind] += 1
        report.created[kind] += 0 if existed else 1


def _load_vocabularies(directory, out, report, status) -> None:
    from evidence.models import DiseaseSubtype
    from therapies.models import DrugClass

    subtypes = _read_json(directory / "subtypes.json", out.problems)
    for index, row in enumerate(subtypes.get("subtypes", [])):
        existed = DiseaseSubtype.objects.filter(code=row.get("code")).exists()
        where = f"subtypes.json[{index}] ({row.get('code')})"
        _count(report, "subtypes", existed, out.run(where, upsert_subtype, **row))

    data = _read_json(directory / "therapies.json", out.problems)
    for index, row in enumerate(data.get("drug_classes", [])):
        existed = DrugClass.objects.filter(slug=row.get("slug")).exists()
        where = f"therapies.json drug_classes[{index}] ({row.get('slug')})"
        _count(report, "drug classes", existed, out.run(where, upsert_drug_class, **row))
    for index, row in enumerate(data.get("therapies", [])):
        existed = Therapy.objects.filter(slug=row.get("slug")).exists()
        where = f"therapies.json therapies[{index}] ({row.get('slug')})"
        _count(report, "therapies", existed,
               out.run(where, upsert_therapy, **{"status": status, **row}))


def _load_references(directory, out, report, status) -> None:
    path = directory / "references.bib"
    try:
        parsed = parse_bibtex(path.read_text(encoding="utf-8")).references
    except FileNotFoundError:
        out.problems.append(f"{path}: file is missing")
        return
    except BibtexError as exc:
        out.problems.extend(f"references.bib: {p}" for p in exc.problems)
        return
    statuses = _read_json(directory / STATUS_FILE, out.problems).get("references", {}) \
        if (directory / STATUS_FILE).exists() else {}
    for entry in parsed:
        where = f"references.bib entry '{entry.key}' (line {entry.line})"
        result = out.run(where, upsert_reference, parsed=entry,
                         status=statuses.get(entry.key, status))
        if result is not None:
            report.total["references"] += 1
            report.created["references"] += int(result.created)


def _load_rationale(directory, out, report) -> None:
    path = directory / "rationale.json"
    if not path.exists():
        return
    for index, row in enumerate(_read_json(path, out.problems).get("rationale", [])):
        where = (f"rationale.json[{index}] "
                 f"(reference {row.get('reference')} -> {row.get('therapy')})")
        therapy = out.run(where, Therapy.objects.get, slug=row.get("therapy"))
        reference = out.run(where, get_reference, row.get("reference"))
        if therapy and reference:
            _count(report, "rationale links", True, out.run(
                where, set_rationale, therapy=therapy, reference=reference,
                pathway=row.get("pathway", ""), note=row.get("note", "")))


def _load_studies(directory, out, report, status) -> None:
    seen: dict[str, str] = {}
    for path in sorted((directory / "studies").glob("*.json")):
        data = _read_json(path, out.problems)
        for index, row in enumerate(data.get("studies", [])):
            row = dict(row)
            key = row.pop("key", None)
            where = f"studies/{path.name} studies[{index}] ({key})"
            if not key:
                out.problems.append(f"{where}: has no key")
                continue
            if key in seen:
                out.problems.append(f"{where}: key already used in {seen[key]}")
                continue
            seen[key] = path.name
            reference = out.run(where, get_reference, row.pop("reference", None))
            if reference is None:
                continue
            existed = Study.objects.filter(key=key).exists()
            _count(report, "studies", existed, out.run(
                where, upsert_study, key=key, reference=reference, **{"status": status, **row}))


def _load_statements(directory, out, report, status) -> None:
    path = directory / "statements.json"
    if not path.exists():
        return
    from evidence.models import Statement

    for index, row in enumerate(_read_json(path, out.problems).get("statements", [])):
        where = f"statements.json[{index}] ({row.get('key')})"
        existed = Statement.objects.filter(key=row.get("key")).exists()
        _count(report, "statements", existed,
               out.run(where, upsert_statement, **{"status": status, "order": index, **row}))


# Trials and certainty overrides (issue 13): optional files, loaded by functions of their own.
TRIALS_FILE = "trials.json"
OVERRIDES_FILE = "certainty_overrides.json"


def _load_trials(directory, out, report, status) -> None:
    """trials.json: the trials and cohorts that group publications (before the studies)."""
    from evidence.models import Trial

    path = directory / TRIALS_FILE
    if not path.exists():
        return
    for index, row in enumerate(_read_json(path, out.problems).get("trials", [])):
        where = f"{TRIALS_FILE}[{index}] ({row.get('key')})"
        existed = Trial.objects.filter(key=row.get("key")).exists()
        _count(report, "trials", existed,
               out.run(where, upsert_trial, **{"status": status, **row}))


def _load_certainty_overrides(directory, out, report, status) -> None:
    """certainty_overrides.json: curators' certainty for a cell, each with its reason."""
    path = directory / OVERRIDES_FILE
    if not path.exists():
        return
    for index, row in enumerate(_read_json(path, out.problems).get("overrides", [])):
        where = f"{OVERRIDES_FILE}[{index}] ({row.get('therapy')} x {row.get('subtype')})"
        _count(report, "certainty overrides", True,
               out.run(where, upsert_certainty_override, **{"status": status, **row}))
