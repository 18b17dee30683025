"""Load the curated corpus (``fixtures/``) into the database, in one transaction, keeping
curators' work.

Files, in dependency order, one function each (``_load_<file>``):
  subtypes.json, therapies.json        vocabularies
  references.bib                       the review's 60 references (BibTeX, source-exact)
  rationale.json                       mechanistic references -> therapies they support
  studies/*.json                       studies with outcomes and provenance
  statements.json                      the review's summary claims per therapy
  trials.json                          trials grouping publications (issue 13; before studies)
  certainty_overrides.json             curators' certainty for a cell, with the reason
Every problem in every file is collected, then the whole load is refused: nothing is saved.

Each entry of the fixtures is *new* (created), *unchanged*, *updated* (the fixtures changed and
nobody edited the entry since the loader last wrote it) or *kept*: a curator changed it (see
``evidence.services.curation``) and the fixtures differ from it, so it is left as the curator
left it and named in the report. ``force=True`` overwrites such entries instead, and names each.
Entries in the database that the fixtures do not list (curators' additions, or entries removed
from the fixtures) are never deleted; the report names them. Running the load twice changes
nothing: same rows, same ids, no new history.

Entries are loaded with the ``status`` given to ``load_corpus`` (published), unless a row says
its own ``status``: the services write the content, then ``core.workflow.load_status`` sets the
status under the workflow's invariants (a new entry is written as a draft and then published);
studies and provenance rows may carry their ``verified`` flags. A backup
written by ``export_corpus`` uses these, plus ``reference_status.json`` (BibTeX key -> status),
so that it restores every entry as it was (see ``evidence.services.backup``); an empty database
has nothing curated, so a restore into one is exact. Studies and rationale name their reference
by its number in the review or, if it has none, its BibTeX key.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction

from core.choices import ReviewStatus
from core.invariants import InvariantError
from core.workflow import WorkflowError
from evidence.models import DiseaseSubtype, Statement, Study
from evidence.services.curation import (
    LOADED,
    RESET,
    Change,
    Writes,
    curated_change,
    curated_deletion,
    marking_history,
)
from evidence.services.statements import upsert_statement
from evidence.services.studies import StudyDataError, upsert_study
from evidence.services.subtypes import upsert_subtype
from evidence.services.trials import upsert_certainty_override, upsert_trial
from references.bibtex import BibtexError, parse_bibtex
from references.models import Reference
from references.services import find_existing, upsert_reference, validation_messages
from therapies.models import DrugClass, Therapy, TherapyRationale
from therapies.services import set_rationale, upsert_drug_class, upsert_therapy

# Optional: the review status of each reference, by BibTeX key (BibTeX has no field for it).
STATUS_FILE = "reference_status.json"
# Kinds of entry as the report counts them (plural) and names one (singular).
KINDS = {
    "subtypes": "subtype",
    "drug classes": "drug class",
    "therapies": "therapy",
    "references": "reference",
    "rationale links": "rationale link",
    "studies": "study",
    "statements": "statement",
    "trials": "trial",
    "certainty overrides": "certainty override",
}
# How many entries missing from the fixtures the report names, per kind (a benchmark database
# holds thousands of synthetic studies).
UNLISTED_NAMED = 20


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
    """What the load did to each entry of the fixtures, and what it left alone."""

    counts: dict[str, Counter] = field(default_factory=dict)
    new: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # the kept ones a curator deleted
    overwritten: list[str] = field(default_factory=list)
    # kind -> (how many entries the fixtures do not list, the first UNLISTED_NAMED names)
    unlisted: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    def add(self, kind: str, outcome: str, name: str, change: Change | None = None) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1
        if outcome == "new":
            self.new[kind].append(f"{KINDS[kind]} {name}")
        elif outcome in ("updated", "kept", "overwritten"):
            text = f"{KINDS[kind]} {name}" + (f" ({change})" if change else "")
            getattr(self, outcome).append(text)
            if change is not None and change.deleted:
                self.deleted.append(text)

    def lines(self) -> list[str]:
        lines = []
        for kind, counts in self.counts.items():
            text = (
                f"{kind}: {counts.total()} in the fixtures: {counts['new']} new, "
                f"{counts['unchanged']} unchanged, {counts['updated']} updated, "
                f"{counts['kept']} kept because curated"
            )
            if counts["overwritten"]:
                text += f", {counts['overwritten']} curated overwritten (--force)"
            if kind in self.unlisted:
                text += f"; {self.unlisted[kind][0]} in the database only"
            lines.append(text)
        # New entries are named when the fixtures added them to a corpus already loaded; on a
        # first load (or a restore) every entry is new, and the count says it.
        lines += [
            f"new: {text}"
            for kind, names in self.new.items()
            if len(names) < self.counts[kind].total()
            for text in names
        ]
        lines += [f"updated: {text}" for text in self.updated]
        lines += [f"kept: {text}" for text in self.kept]
        lines += [f"overwritten: {text}" for text in self.overwritten]
        for kind, (count, names) in self.unlisted.items():
            more = f", and {count - len(names)} more" if count > len(names) else ""
            lines.append(f"not in the fixtures, left as they are: {kind} {', '.join(names)}{more}")
        return lines


class _Load:
    """One run of the loader: the problems found, the report, and how each entry is written."""

    def __init__(self, directory: Path, *, status: str, force: bool, writes: Writes):
        self.directory = directory
        self.status = status
        self.force = force
        self.writes = writes
        self.problems: list[str] = []
        self.report = LoadReport()
        self.seen: dict[str, set] = defaultdict(set)

    def run(self, where: str, func, *args, **kwargs):
        """Call a service; turn its validation errors into a located problem."""
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            self.problems.extend(f"{where}: {msg}" for msg in validation_messages(exc))
        except (
            StudyDataError,
            InvariantError,
            WorkflowError,
            ObjectDoesNotExist,
            KeyError,
            TypeError,
        ) as exc:
            self.problems.append(f"{where}: {exc}")
        return None

    def entry(
        self,
        kind: str,
        name: str,
        where: str,
        existing: models.Model | None,
        func: Callable[..., models.Model],
        /,
        *,
        identity: tuple[type[models.Model], dict] | None = None,
        **kwargs,
    ) -> models.Model | None:
        """Write one entry of the fixtures through its service, unless a curator changed it
        since the loader last did and ``force`` is off. ``func`` returns the entry; its
        arguments are ``kwargs`` (hence the positional-only parameters before them).

        A curated entry is written inside a savepoint: when the service wrote anything (the
        fixtures differ from the curator's version) the savepoint is rolled back and the entry
        reported as kept. Letting the service decide what differs keeps one definition of
        "differs", the one that makes reloading the same data write nothing.

        ``identity`` (the model and its natural key) lets an entry with no row be told apart
        from one a curator deleted: that one stays deleted, reported as kept, unless ``force``.
        """
        if existing is None and identity is not None and not self.force:
            deletion = curated_deletion(*identity)
            if deletion is not None:
                self.report.add(kind, "kept", name, deletion)
                return None
        change = curated_change(existing) if existing is not None else None
        savepoint = transaction.savepoint() if change else None
        if change:
            self.writes.reason = RESET  # kept only under force: the history says it was reset
        before = self.writes.count
        try:
            result = self.run(where, func, **kwargs)
        finally:
            self.writes.reason = LOADED
        wrote = self.writes.count > before
        if savepoint is not None:
            if result is None or (wrote and not self.force):
                transaction.savepoint_rollback(savepoint)
            else:
                transaction.savepoint_commit(savepoint)
        if result is None:
            return None
        self.seen[kind].add(result.pk)
        if existing is None:
            outcome = "new"
        elif not wrote:
            outcome = "unchanged"
        elif change is None:
            outcome = "updated"
        else:
            outcome = "overwritten" if self.force else "kept"
        self.report.add(kind, outcome, name, change if outcome != "updated" else None)
        return result

    def unlisted(self, kind: str, model: type[models.Model], *names: str) -> None:
        """Report the entries of ``model`` that the fixtures do not list; never delete them."""
        rest = model.objects.exclude(pk__in=self.seen[kind]).order_by(*names)
        count = rest.count()
        if count:
            named = [
                " <- ".join(str(part) for part in row)
                for row in rest.values_list(*names)[:UNLISTED_NAMED]
            ]
            self.report.unlisted[kind] = (count, named)

    def read_json(self, name: str) -> dict:
        path = self.directory / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.problems.append(f"{path}: file is missing")
        except json.JSONDecodeError as exc:
            self.problems.append(
                f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            )
        return {}


# Other apps' parts of a backup (the releases app), as callables taking the directory and
# returning a list of problems; registered by their AppConfig.ready (evidence imports none).
EXTRA_LOADERS: list = []


def load_corpus(
    directory: Path, *, status: str = ReviewStatus.PUBLISHED, force: bool = False
) -> LoadReport:
    """Load every fixture in ``directory``, keeping curators' edits unless ``force``.

    Raises ``CorpusError`` (saving nothing) on any problem.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise CorpusError([f"{directory}: not a directory"])
    with marking_history() as writes, transaction.atomic():
        load = _Load(directory, status=status, force=force, writes=writes)
        _load_subtypes(load)
        _load_therapies(load)
        _load_references(load)
        _load_rationale(load)
        _load_trials(load)
        _load_studies(load)
        _load_statements(load)
        _load_certainty_overrides(load)
        for extra in EXTRA_LOADERS:
            load.problems.extend(extra(directory))
        if load.problems:
            transaction.set_rollback(True)
    if load.problems:
        # An entry the fixtures cite may be one a curator deleted: say so beside the problem.
        raise CorpusError(load.problems + [f"left deleted: {t}" for t in load.report.deleted])
    return load.report


def _load_subtypes(load: _Load) -> None:
    for index, row in enumerate(load.read_json("subtypes.json").get("subtypes", [])):
        code = row.get("code")
        load.entry(
            "subtypes",
            code,
            f"subtypes.json[{index}] ({code})",
            DiseaseSubtype.objects.filter(code=code).first(),
            upsert_subtype,
            identity=(DiseaseSubtype, {"code": code}),
            **{"status": load.status, **row},
        )
    load.unlisted("subtypes", DiseaseSubtype, "code")


def _load_therapies(load: _Load) -> None:
    data = load.read_json("therapies.json")
    for index, row in enumerate(data.get("drug_classes", [])):
        slug = row.get("slug")
        load.entry(
            "drug classes",
            slug,
            f"therapies.json drug_classes[{index}] ({slug})",
            DrugClass.objects.filter(slug=slug).first(),
            upsert_drug_class,
            identity=(DrugClass, {"slug": slug}),
            **{"status": load.status, **row},
        )
    for index, row in enumerate(data.get("therapies", [])):
        slug = row.get("slug")
        load.entry(
            "therapies",
            slug,
            f"therapies.json therapies[{index}] ({slug})",
            Therapy.objects.filter(slug=slug).first(),
            upsert_therapy,
            identity=(Therapy, {"slug": slug}),
            **{"status": load.status, **row},
        )
    load.unlisted("drug classes", DrugClass, "slug")
    load.unlisted("therapies", Therapy, "slug")


def _upsert_reference(**kwargs) -> Reference:
    return upsert_reference(**kwargs).reference


def _load_references(load: _Load) -> None:
    path = load.directory / "references.bib"
    try:
        parsed = parse_bibtex(path.read_text(encoding="utf-8")).references
    except FileNotFoundError:
        load.problems.append(f"{path}: file is missing")
        return
    except BibtexError as exc:
        load.problems.extend(f"references.bib: {p}" for p in exc.problems)
        return
    statuses = (
        load.read_json(STATUS_FILE).get("references", {})
        if (load.directory / STATUS_FILE).exists()
        else {}
    )
    # Two entries are two works (an abstract and its paper may share title and year): an entry
    # never matches a reference this load has already written (``load.seen``).
    written = load.seen["references"]
    for entry in parsed:
        # The key names the entry in the fixtures and in a backup: it matches first.
        existing = Reference.objects.filter(bibtex_key=entry.key).first()
        if existing is None or existing.pk in written:
            existing = find_existing(entry, exclude=written)
        load.entry(
            "references",
            entry.key,
            f"references.bib entry '{entry.key}' (line {entry.line})",
            existing,
            _upsert_reference,
            identity=(Reference, {"bibtex_key": entry.key}),
            parsed=entry,
            # An unsaved reference means "create": the service must not match again.
            existing=existing if existing is not None else Reference(),
            status=statuses.get(entry.key, load.status),
        )
    load.unlisted("references", Reference, "bibtex_key")


def _load_rationale(load: _Load) -> None:
    if not (load.directory / "rationale.json").exists():
        return
    for index, row in enumerate(load.read_json("rationale.json").get("rationale", [])):
        where = (
            f"rationale.json[{index}] (reference {row.get('reference')} -> {row.get('therapy')})"
        )
        therapy = load.run(where, Therapy.objects.get, slug=row.get("therapy"))
        reference = load.run(where, get_reference, row.get("reference"))
        if therapy and reference:
            load.entry(
                "rationale links",
                f"{therapy.slug} <- {reference.bibtex_key}",
                where,
                TherapyRationale.objects.filter(therapy=therapy, reference=reference).first(),
                set_rationale,
                identity=(TherapyRationale, {"therapy": therapy, "reference": reference}),
                therapy=therapy,
                reference=reference,
                pathway=row.get("pathway", ""),
                note=row.get("note", ""),
            )
    load.unlisted("rationale links", TherapyRationale, "therapy__slug", "reference__bibtex_key")


def _load_studies(load: _Load) -> None:
    seen: dict[str, str] = {}
    for path in sorted((load.directory / "studies").glob("*.json")):
        data = load.read_json(f"studies/{path.name}")
        for index, row in enumerate(data.get("studies", [])):
            row = dict(row)
            key = row.pop("key", None)
            where = f"studies/{path.name} studies[{index}] ({key})"
            if not key:
                load.problems.append(f"{where}: has no key")
                continue
            if key in seen:
                load.problems.append(f"{where}: key already used in {seen[key]}")
                continue
            seen[key] = path.name
            reference = load.run(where, get_reference, row.pop("reference", None))
            if reference is None:
                continue
            load.entry(
                "studies",
                key,
                where,
                Study.objects.filter(key=key).first(),
                upsert_study,
                identity=(Study, {"key": key}),
                key=key,
                reference=reference,
                **{"status": load.status, **row},
            )
    load.unlisted("studies", Study, "key")


def _load_statements(load: _Load) -> None:
    if not (load.directory / "statements.json").exists():
        return
    for index, row in enumerate(load.read_json("statements.json").get("statements", [])):
        key = row.get("key")
        load.entry(
            "statements",
            key,
            f"statements.json[{index}] ({key})",
            Statement.objects.filter(key=key).first(),
            upsert_statement,
            identity=(Statement, {"key": key}),
            **{"status": load.status, "order": index, **row},
        )
    load.unlisted("statements", Statement, "key")


# Trials and certainty overrides (issue 13): optional files, loaded by functions of their own.
TRIALS_FILE = "trials.json"
OVERRIDES_FILE = "certainty_overrides.json"


def _load_trials(load: _Load) -> None:
    """trials.json: the trials and cohorts that group publications (before the studies)."""
    from evidence.models import Trial

    if not (load.directory / TRIALS_FILE).exists():
        return
    for index, row in enumerate(load.read_json(TRIALS_FILE).get("trials", [])):
        key = row.get("key")
        load.entry(
            "trials",
            key,
            f"{TRIALS_FILE}[{index}] ({key})",
            Trial.objects.filter(key=key).first(),
            upsert_trial,
            identity=(Trial, {"key": key}),
            **{"status": load.status, **row},
        )
    load.unlisted("trials", Trial, "key")


def _load_certainty_overrides(load: _Load) -> None:
    """certainty_overrides.json: curators' certainty for a cell, each with its reason."""
    from evidence.models import CertaintyOverride

    if not (load.directory / OVERRIDES_FILE).exists():
        return
    for index, row in enumerate(load.read_json(OVERRIDES_FILE).get("overrides", [])):
        name = f"{row.get('therapy')} x {row.get('subtype')}"
        natural_key = {
            "therapy__slug": row.get("therapy"),
            "subtype__code": row.get("subtype"),
            "measure": row.get("measure", ""),
        }
        load.entry(
            "certainty overrides",
            name,
            f"{OVERRIDES_FILE}[{index}] ({name})",
            CertaintyOverride.objects.filter(**natural_key).first(),
            upsert_certainty_override,
            identity=(CertaintyOverride, natural_key),
            **{"status": load.status, **row},
        )
