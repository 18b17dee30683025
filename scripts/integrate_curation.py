"""Merge the curators' synthesis findings (issue 13) into the fixtures; re-runnable.

    python scripts/integrate_curation.py /work/curation/refs_01_30.json \
        /work/curation/refs_31_60.json

Reads the exchange format of CURATION_SCHEMA.md and writes, in fixtures/:
  trials.json             the trials (registry ids as the curators saw them)
  studies/*.json          per study: trial, publication role, data availability, result data,
                          safety signal, arms, per-subtype counts, per-arm results (inside the
                          outcomes, as ``arm_results``)
  references.bib          identifiers found for references that had none (and their source)
  provenance URLs         replaced where the curators found the same record on a scholarly site
Nothing is invented: a value the files do not give is left as the fixtures have it. Every
finding that cannot be applied is printed, and the script exits non-zero.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
STUDY_KEYS = ("trial", "publication_role", "data_availability", "has_result_data", "safety_signal")
ARM_KEYS = ("label", "therapy", "role", "dose", "route", "schedule", "duration", "n")


def main(paths: list[str]) -> int:
    problems: list[str] = []
    trials: dict[str, dict] = {}
    studies: dict[str, dict] = {}
    references: dict[str, dict] = {}
    replacements: list[dict] = []
    unresolved = 0
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for key, trial in data.get("trials", {}).items():
            if key in trials and trials[key] != trial:
                problems.append(f"{path}: trial {key} differs from another file's")
            trials[key] = trial
        studies.update(data.get("studies", {}))
        references.update(data.get("references", {}) or {})
        replacements.extend(data.get("provenance_replacements", []) or [])
        for items in (data.get("unresolved") or {}).values():
            unresolved += len(items)

    _write_trials(trials)
    seen = _update_studies(studies, replacements, problems)
    missing = sorted(set(studies) - seen)
    problems.extend(f"study {key}: not in the fixtures" for key in missing)
    _update_bib(references, replacements, problems)
    print(
        f"trials: {len(trials)}; studies updated: {len(seen)}; references with new "
        f"identifiers: {len(references)}; provenance replacements: {len(replacements)}; "
        f"flagged URLs the curators could not replace: {unresolved}"
    )
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


def _write_trials(trials: dict[str, dict]) -> None:
    rows = [
        {
            "key": key,
            "name": t["name"],
            "kind": t.get("kind") or "trial",
            "registry_ids": t.get("registry_ids") or [],
            "registry_source_url": t.get("registry_source_url") or "",
            "note": t.get("note") or "",
        }
        for key, t in sorted(trials.items())
    ]
    (FIXTURES / "trials.json").write_text(
        json.dumps({"trials": rows}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _update_studies(studies, replacements, problems) -> set[str]:
    seen: set[str] = set()
    for path in sorted((FIXTURES / "studies").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for study in data["studies"]:
            for rep in replacements:
                if rep["study"] == study["key"]:
                    hits = [p for p in study["provenance"] if p["url"] == rep["old_url"]]
                    done = any(p["url"] == rep["new_url"] for p in study["provenance"])
                    if not hits and not done:
                        problems.append(
                            f"study {study['key']}: no provenance URL {rep['old_url']} to replace"
                        )
                    for row in hits:
                        row["url"] = rep["new_url"]
            found = studies.get(study["key"])
            if found is None:
                continue
            seen.add(study["key"])
            for name in STUDY_KEYS:
                if name in found:
                    if name == "trial" and found[name] is None:
                        study.pop("trial", None)
                    elif found[name] is not None:
                        study[name] = found[name]
            study["arms"] = [
                {k: arm[k] for k in ARM_KEYS if arm.get(k) is not None or k == "therapy"}
                for arm in found.get("arms") or []
            ] or study.get("arms", [])
            counts = found.get("subtype_counts") or {}
            outside = sorted(set(counts) - set(study["subtypes"]))
            if outside:
                problems.append(
                    f"study {study['key']}: subtype_counts for "
                    f"{', '.join(outside)}, not among its subtypes"
                )
            if counts:
                study["subtype_counts"] = {
                    k: v for k, v in counts.items() if k in study["subtypes"]
                }
            for outcome in study.get("outcomes", []):
                outcome.pop("arm_results", None)
            labels = {arm["label"] for arm in study["arms"]}
            for result in found.get("arm_outcomes") or []:
                index = result["outcome"]
                if index >= len(study.get("outcomes", [])) or result["arm"] not in labels:
                    problems.append(
                        f"study {study['key']}: arm result for outcome {index} / "
                        f"arm {result['arm']!r} matches nothing"
                    )
                    continue
                study["outcomes"][index].setdefault("arm_results", []).append(
                    {
                        "arm": result["arm"],
                        "responders": result.get("responders"),
                        "n": result.get("n"),
                        "value": result.get("value") or "",
                    }
                )
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return seen


def _update_bib(references, replacements, problems) -> None:
    path = FIXTURES / "references.bib"
    text = path.read_text(encoding="utf-8")
    # Identifier sources are NOT replaced from provenance replacements: they record where an
    # identifier was seen, and the replacement page may not show it (the curators say so for
    # refs 19 and 26). They stay flagged by the record-url rule until a curator finds one.
    for number, ids in references.items():
        match = re.search(
            r"@\w+\{[^,]+,\n(?:  .*\n)*?  reviewnumber = \{" + number + r"\},?\n", text
        )
        if match is None:
            problems.append(f"reference {number}: not found in references.bib")
            continue
        start = match.start()
        end = text.index("\n}\n", start) + 1
        entry = text[start:end]
        added = []
        for field in ("doi", "pmid", "pmcid"):
            value = ids.get(field)
            if not value:
                continue
            existing = re.search(rf"^  {field} = \{{(.*)\}}", entry, re.M)
            if existing and existing.group(1) == value:
                continue
            if existing:
                problems.append(f"reference {number}: already has a {field}; left as it is")
                continue
            added.append(f"  {field} = {{{value}}},\n")
        source = ids.get("source_url")
        if source and source not in entry:
            if "  idsources = {" in entry:
                entry = re.sub(
                    r"(  idsources = \{)([^}]*)\}",
                    lambda m, source=source: f"{m.group(1)}{m.group(2)} {source}}}",
                    entry,
                )
            else:
                added.append(f"  idsources = {{{source}}},\n")
        note = ids.get("note")
        if note and "  annote = {" in entry and "Issue 13 pass:" not in entry:
            # The entry's note said what earlier passes found; add what this pass found.
            entry = re.sub(
                r"(  annote = \{)(.*)\}",
                lambda m, note=note: f"{m.group(1)}{m.group(2)} Issue 13 pass: {note}}}",
                entry,
            )
        entry = entry[:-1].rstrip("\n")
        if added and not entry.endswith(","):
            entry += ","
        entry += "\n" + "".join(added)
        entry = entry.rstrip(",\n") + "\n"
        text = text[:start] + entry + text[end:]
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
