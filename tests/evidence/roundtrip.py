"""Helpers for backup tests: a full dump of every content value keyed by natural keys (no ids, no
timestamps; the review fields the backup documents as not written are left out), and a restore
of an ``export_corpus`` backup into emptied content tables, in this process.

``backup_and_restore`` is what docs/production.md calls a restore into an empty database
(``migrate && load_corpus DIR``), without the subprocess that migrates a new database in
tests/evidence/test_backup_restore.py: the content tables are emptied (the history stays; its
deletion records have no user, so the loader does not take them for a curator's), then
``load_corpus DIR`` runs. Its findings were checked against a real restore into a new SQLite
database (that subprocess)."""

from __future__ import annotations

from django.core.management import call_command

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
from references.models import Author, Reference
from therapies.models import DrugClass, Therapy, TherapyRationale

SKIP = {
    "id",
    "created",
    "modified",
    "submitted_by",
    "submitted_at",
    "reviewed_by",
    "reviewed_at",
    "review_comment",
}


def _fields(obj, *extra_skip):
    out = {}
    for f in obj._meta.concrete_fields:
        if f.name in SKIP or f.name in extra_skip or f.is_relation:
            continue
        out[f.name] = getattr(obj, f.name)
    return out


def dump() -> dict:
    data = {}
    data["subtypes"] = {s.code: _fields(s) for s in DiseaseSubtype.objects.all()}
    data["drug_classes"] = {c.slug: _fields(c) for c in DrugClass.objects.all()}
    data["therapies"] = {
        t.slug: {**_fields(t), "drug_class": t.drug_class.slug}
        for t in Therapy.objects.select_related("drug_class")
    }
    data["references"] = {
        r.bibtex_key: {
            **_fields(r),
            "authors": [
                (a.position, a.family, a.given, a.is_corporate)
                for a in Author.objects.filter(reference=r).order_by("position")
            ],
        }
        for r in Reference.objects.all()
    }
    data["rationale"] = {
        (link.therapy.slug, link.reference.bibtex_key): _fields(link)
        for link in TherapyRationale.objects.select_related("therapy", "reference")
    }
    data["trials"] = {t.key: _fields(t) for t in Trial.objects.all()}
    studies = {}
    for s in Study.objects.select_related("reference", "trial"):
        arms = list(Arm.objects.filter(study=s).select_related("therapy").order_by("order", "pk"))
        outcomes = list(Outcome.objects.filter(study=s).order_by("order", "pk"))
        studies[s.key] = {
            **_fields(s),
            "reference": s.reference.bibtex_key,
            "trial": s.trial.key if s.trial else None,
            "therapies": sorted(t.slug for t in s.therapies.all()),
            "subtypes": sorted(t.code for t in s.subtypes.all()),
            "arms": [
                {**_fields(a, "order"), "therapy": a.therapy.slug if a.therapy else None}
                for a in arms
            ],
            "subtype_counts": sorted(
                (c.subtype.code, c.n) for c in StudySubtypeCount.objects.filter(study=s)
            ),
            "outcomes": [
                {
                    **_fields(o, "order"),  # the list keeps their order
                    "arm_results": sorted(
                        (r.arm.label, r.responders, r.n, r.value)
                        for r in OutcomeArmResult.objects.filter(outcome=o).select_related("arm")
                    ),
                }
                for o in outcomes
            ],
            "provenance": [_fields(p) for p in Provenance.objects.filter(study=s).order_by("pk")],
        }
    data["studies"] = studies
    data["statements"] = {
        st.key: {
            **_fields(st),
            "therapy": st.therapy.slug,
            "studies": sorted(x.key for x in st.studies.all()),
            "references": sorted(x.bibtex_key for x in st.references.all()),
        }
        for st in Statement.objects.select_related("therapy")
    }
    data["overrides"] = {
        (o.therapy.slug, o.subtype.code, o.measure): _fields(o)
        for o in CertaintyOverride.objects.select_related("therapy", "subtype")
    }
    return data


def wipe_content() -> None:
    """Empty every content table (the history stays), as a new database would be."""
    Statement.objects.all().delete()
    CertaintyOverride.objects.all().delete()
    OutcomeArmResult.objects.all().delete()
    Outcome.objects.all().delete()
    Provenance.objects.all().delete()
    Arm.objects.all().delete()
    StudySubtypeCount.objects.all().delete()
    Study.objects.all().delete()
    TherapyRationale.objects.all().delete()
    Trial.objects.all().delete()
    Author.objects.all().delete()
    Reference.objects.all().delete()
    Therapy.objects.all().delete()
    DrugClass.objects.all().delete()
    DiseaseSubtype.objects.all().delete()


def backup_and_restore(directory) -> None:
    """export_corpus, then load_corpus into emptied content tables (in this process)."""
    call_command("export_corpus", str(directory), verbosity=0)
    wipe_content()
    call_command("load_corpus", str(directory), verbosity=0)


def differences(before: dict, after: dict) -> list[str]:
    out = []
    for kind in before:
        b, a = before[kind], after.get(kind, {})
        for key in sorted(set(b) | set(a), key=str):
            if key not in a:
                out.append(f"{kind} {key!r}: missing after restore")
            elif key not in b:
                out.append(f"{kind} {key!r}: appeared after restore")
            elif b[key] != a[key]:
                for name in b[key]:
                    if b[key][name] != a[key].get(name):
                        out.append(
                            f"{kind} {key!r} {name}: {b[key][name]!r} -> {a[key].get(name)!r}"
                        )
    return out
