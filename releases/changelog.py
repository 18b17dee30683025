"""What changed between two releases, in words a clinician reads, grouped by therapy.

The issue asks for changelogs "computed from the history". They are computed from the two
releases' frozen ``corpus.json`` instead: each is the published corpus at its release, so their
difference is exactly what readers could see change, and nothing of the drafts, reverts and
workflow steps in between (which the history holds, and which are not published). It also
works for releases restored from a backup, which starts a fresh history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

GENERAL = "All therapies"
ADDED, CHANGED, WITHDRAWN = "added", "changed", "withdrawn"

# Study fields readers see, in the words of the study page.
STUDY_LABELS = {
    "label": "short name",
    "design": "design",
    "phase": "phase",
    "blinding": "blinding",
    "comparator": "comparator",
    "sample_size": "patients",
    "age_group": "age group",
    "refractory": "refractory population",
    "primary_endpoint": "primary endpoint",
    "primary_endpoint_met": "primary endpoint met",
    "result": "result",
    "summary": "summary",
    "adverse_events": "adverse events",
    "follow_up": "follow-up",
    "level_override": "level",
    "level_override_reason": "reason for the level",
    "verified": "verified",
    "trial": "trial",
    "publication_role": "publication role",
    "data_availability": "result data seen in",
    "has_result_data": "has result data",
    "safety_signal": "safety signal",
    "therapies": "therapies",
    "subtypes": "subtypes",
    "reference": "reference",
    "outcomes": "outcomes",
    "arms": "arms",
    "subtype_counts": "patients per subtype",
    "provenance": "sources",
}
REFERENCE_LABELS = {
    "title": "title",
    "authors": "authors",
    "journal": "journal",
    "year": "year",
    "volume": "volume",
    "issue": "issue",
    "pages": "pages",
    "doi": "DOI",
    "pmid": "PMID",
    "pmcid": "PMCID",
    "number": "number",
    "kind": "kind",
    "role": "role",
}
TRIAL_LABELS = {
    "name": "name",
    "kind": "kind",
    "registry_ids": "registry ids",
    "registry_source_url": "where the ids were seen",
    "note": "note",
}
STATEMENT_LABELS = {
    "text": "text",
    "studies": "studies",
    "references": "references",
    "order": "order",
    "therapy": "therapy",
}


@dataclass(frozen=True)
class Change:
    kind: str  # added, changed, withdrawn
    what: str  # study, trial, statement, reference, certainty
    text: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "what": self.what, "text": self.text}


@dataclass
class Changelog:
    since: str | None
    groups: dict[str, list[Change]] = field(default_factory=dict)

    def add(self, therapies, change: Change) -> None:
        for therapy in therapies or [GENERAL]:
            self.groups.setdefault(therapy, []).append(change)

    @property
    def changes(self) -> list[Change]:
        return [c for changes in self.groups.values() for c in changes]

    def as_dict(self) -> dict:
        return {
            "since": self.since,
            "groups": [
                {"therapy": name, "changes": [c.as_dict() for c in changes]}
                for name, changes in self.sorted_groups()
            ],
        }

    def sorted_groups(self) -> list[tuple[str, list[Change]]]:
        return sorted(self.groups.items(), key=lambda item: (item[0] == GENERAL, item[0]))


def _short(value, limit: int = 80) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "not stated"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = ", ".join(_short(v, 30) if isinstance(v, dict | list) else str(v) for v in value)
    elif isinstance(value, dict):
        value = ", ".join(f"{k} {v}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _outcome_text(outcome: dict) -> str:
    parts = [outcome.get("measure", "")]
    if outcome.get("timepoint"):
        parts.append(f"at {outcome['timepoint']}")
    if outcome.get("responders") is not None and outcome.get("n"):
        parts.append(f"{outcome['responders']}/{outcome['n']}")
    if outcome.get("value"):
        parts.append(outcome["value"])
    return " ".join(parts)


def _fields(old: dict, new: dict, labels: dict) -> list[str]:
    """'patients: 20 → 24' for each field readers see that differs."""
    out = []
    for name, label in labels.items():
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name == "outcomes":
            gone = [o for o in before or [] if o not in (after or [])]
            came = [o for o in after or [] if o not in (before or [])]
            out.append(
                f"outcomes: {'; '.join(_outcome_text(o) for o in gone) or 'none'} → "
                f"{'; '.join(_outcome_text(o) for o in came) or 'none'}"
            )
            continue
        out.append(f"{label}: {_short(before)} → {_short(after)}")
    return out


def _diff(old_rows: list[dict], new_rows: list[dict], key: str):
    old = {r[key]: r for r in old_rows}
    new = {r[key]: r for r in new_rows}
    for k in sorted(new.keys() - old.keys(), key=str):
        yield ADDED, None, new[k]
    for k in sorted(old.keys() & new.keys(), key=str):
        if old[k] != new[k]:
            yield CHANGED, old[k], new[k]
    for k in sorted(old.keys() - new.keys(), key=str):
        yield WITHDRAWN, old[k], None


def compare(old: dict, new: dict) -> Changelog:
    """The changes from corpus ``old`` to corpus ``new`` (both ``releases.snapshot`` dicts)."""
    log = Changelog(since=old.get("version") or None)
    names = {t["slug"]: t["name"] for t in old.get("therapies", [])}
    names.update({t["slug"]: t["name"] for t in new.get("therapies", [])})

    def therapies(*rows):
        return sorted({names.get(s, s) for row in rows if row for s in row.get("therapies", [])})

    for kind, before, after in _diff(old.get("studies", []), new.get("studies", []), "key"):
        row = after or before
        if kind == CHANGED:
            text = f"Study {row['label']}: " + "; ".join(_fields(before, after, STUDY_LABELS))
        else:
            text = f"Study {row['label']} ({_short(row.get('design'))}) {kind}"
        log.add(therapies(before, after), Change(kind, "study", text))

    for kind, before, after in _diff(old.get("statements", []), new.get("statements", []), "key"):
        row = after or before
        therapy = [
            names.get(s, s)
            for s in {(before or {}).get("therapy"), (after or {}).get("therapy")}
            if s
        ]
        text = (
            (
                f'Statement "{_short(row["text"], 100)}": '
                + "; ".join(_fields(before, after, STATEMENT_LABELS))
            )
            if kind == CHANGED
            else f'Statement "{_short(row["text"], 100)}" {kind}'
        )
        log.add(sorted(therapy), Change(kind, "statement", text))

    studies_by_trial: dict[str, list[dict]] = {}
    for study in new.get("studies", []) + old.get("studies", []):
        if study.get("trial"):
            studies_by_trial.setdefault(study["trial"], []).append(study)
    for kind, before, after in _diff(old.get("trials", []), new.get("trials", []), "key"):
        row = after or before
        text = (
            (f"Trial {row['name']}: " + "; ".join(_fields(before, after, TRIAL_LABELS)))
            if kind == CHANGED
            else f"Trial {row['name']} {kind}"
        )
        log.add(therapies(*studies_by_trial.get(row["key"], [])), Change(kind, "trial", text))

    studies_by_reference: dict = {}
    for study in new.get("studies", []) + old.get("studies", []):
        studies_by_reference.setdefault(study.get("reference"), []).append(study)
    for kind, before, after in _diff(old.get("references", []), new.get("references", []), "key"):
        row = after or before
        who = (row.get("authors") or ["Anon."])[0]
        name = f"{who} ({row.get('year') or 'n.d.'}) {_short(row.get('title'), 60)}"
        text = (
            (f"Reference {name}: " + "; ".join(_fields(before, after, REFERENCE_LABELS)))
            if kind == CHANGED
            else f"Reference {name} {kind}"
        )
        ref_name = row.get("number") or row["key"]
        log.add(therapies(*studies_by_reference.get(ref_name, [])), Change(kind, "reference", text))

    cells_old = {(c["therapy"], c["subtype"]): c for c in old.get("certainty", [])}
    cells_new = {(c["therapy"], c["subtype"]): c for c in new.get("certainty", [])}
    for key in sorted(cells_old.keys() | cells_new.keys()):
        before, after = cells_old.get(key), cells_new.get(key)
        row = after or before
        cell = f"{row['therapy_name']} × {row['subtype_name']}"
        if before and after:
            rated_again = (
                before["certainty"] != after["certainty"]
                or before["direction"] != after["direction"]
            )
            # Deduplicated patients (evidence.synthesis.patients): a correction of the count
            # is news to a reader even when the rating stays.
            recounted = before.get("patients") != after.get("patients")
            if not rated_again and not recounted:
                continue
            parts = []
            if before["certainty"] != after["certainty"]:
                parts.append(
                    f"certainty {before['certainty_label'].lower()} → "
                    f"{after['certainty_label'].lower()}"
                )
            if before["direction"] != after["direction"]:
                parts.append(
                    f"direction {before['direction_label'].lower()} → "
                    f"{after['direction_label'].lower()}"
                )
            if recounted:
                parts.append(
                    f"patients {_patients(before.get('patients'))} → "
                    f"{_patients(after.get('patients'))}"
                )
            why = after["reasons"][0] if rated_again and after.get("reasons") else ""
            text = f"{cell}: {', '.join(parts)}" + (
                f" because {why[0].lower()}{why[1:]}" if why else ""
            )
            kind = CHANGED
        elif after:
            kind = ADDED
            text = f"{cell}: newly rated, certainty {after['certainty_label'].lower()}"
        else:
            kind = WITHDRAWN
            text = f"{cell}: no longer rated (was {before['certainty_label'].lower()})"
        log.add([row["therapy_name"]], Change(kind, "certainty", text))
    return log


def _patients(value) -> str:
    return "not reported" if value is None else str(value)


def corpus_of(release) -> dict:
    artefact = release.artefacts.filter(name="corpus.json").only("content").first()
    return json.loads(artefact.content) if artefact else {}


def changelog(release) -> Changelog:
    """The changes of ``release`` since the release before it (none listed for the first)."""
    from releases.models import Release

    previous = (
        Release.objects.filter(created_at__lt=release.created_at).order_by("-created_at").first()
    )
    if previous is None:
        return Changelog(since=None)  # the first release: everything in it is new
    return compare(corpus_of(previous), corpus_of(release))
