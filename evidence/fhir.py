"""HL7 FHIR R5 export: Citation, Evidence, EvidenceVariable resources and collection Bundles.

The resources are built as plain dicts (JSON as FHIR defines it) so that a Bundle of the whole
corpus streams entry by entry with flat memory; ``fhir.resources`` (the R5 models) validates
every one in the tests (tests/evidence/test_fhir.py) rather than here, because building pydantic
models for every row of a streamed export would cost time for no reader's benefit.

Only published content is exported: the studies are read with ``published()``, and a published
study shows only published references, therapies and subtypes (``core.invariants``).

Mapping (EBMonFHIR conventions):

* ``Citation/ref-<id>``: one per reference; ``citedArtifact`` holds its identifiers (DOI, PMID,
  PMCID with their usual systems), title, authors, journal and date.
* ``Evidence/outcome-<id>``: one per study outcome; the variables are the population (the
  study's subtypes), the exposure (the tested arms' therapies), the reference exposure (the
  comparator arms) and the measured variable (the outcome measure). ``statistic`` holds
  responders/n per arm where recorded (else the outcome's own responders/n); ``certainty`` the
  synthesis of each tested therapy x subtype where rated. A trial's registry records are
  ``relatedArtifact`` documentation links.
* ``EvidenceVariable/therapy-<slug>``, ``/outcome-<code>``, ``/subtype-<code>``: the variables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from types import SimpleNamespace

from django.db.models import Prefetch, QuerySet

from core.choices import ReviewStatus
from core.formats import FORMATS
from core.streaming import keys_in, one_at_a_time, value_batches
from evidence.choices import ArmRole, Certainty, OutcomeMeasure
from evidence.exports import choice_labels, study_url
from evidence.models import (
    Arm,
    DiseaseSubtype,
    Outcome,
    OutcomeArmResult,
    Study,
    registry_url,
)
from evidence.synthesis import Synthesis
from references.models import Reference
from therapies.models import Therapy

MEDIA_TYPE = FORMATS["fhir"].media_type  # the site's table of formats (core.formats)
CHUNK_SIZE = 200

DOI_SYSTEM = "https://doi.org"
PMID_SYSTEM = "https://pubmed.ncbi.nlm.nih.gov"
PMCID_SYSTEM = "https://www.ncbi.nlm.nih.gov/pmc"
VARIABLE_ROLE = "http://hl7.org/fhir/variable-role"
CERTAINTY_RATING = "http://terminology.hl7.org/CodeSystem/certainty-rating"
CERTAINTY_TYPE = "http://terminology.hl7.org/CodeSystem/certainty-type"
STATISTIC_TYPE = "http://terminology.hl7.org/CodeSystem/statistic-type"

# Our GRADE codes as the HL7 certainty-rating codes; "insufficient" is not a rating, so an
# unrated cell gives no certainty element at all.
CERTAINTY_CODES = {
    Certainty.HIGH: "high",
    Certainty.MODERATE: "moderate",
    Certainty.LOW: "low",
    Certainty.VERY_LOW: "very-low",
}


def _concept(system: str, code: str, display: str = "") -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _ref(resource_type: str, ident: str, display: str = "") -> dict:
    out = {"reference": f"{resource_type}/{ident}"}
    if display:
        out["display"] = display
    return out


# -- Citation ----------------------------------------------------------------------------------


def citation_id(reference: Reference) -> str:
    return f"ref-{reference.pk}"


def reference_identifiers(reference: Reference) -> list[dict]:
    ids = []
    for system, value, label in (
        (DOI_SYSTEM, reference.doi, "DOI"),
        (PMID_SYSTEM, reference.pmid, "PMID"),
        (PMCID_SYSTEM, reference.pmcid, "PMCID"),
    ):
        if value:
            ids.append({"type": {"text": label}, "system": system, "value": value})
    return ids


def citation(reference: Reference, base_url: str = "") -> dict:
    """A Citation resource for one reference (its authors prefetched)."""
    artifact: dict = {"title": [{"text": reference.title}]}
    if identifiers := reference_identifiers(reference):
        artifact["identifier"] = identifiers
    form: dict = {}
    if reference.journal:
        form["publishedIn"] = {"title": reference.journal}
        if reference.publisher:
            form["publishedIn"]["publisher"] = {"display": reference.publisher}
    for key, value in (
        ("volume", reference.volume),
        ("issue", reference.issue),
        ("pageString", reference.pages),
    ):
        if value:
            form[key] = value
    if reference.year:
        # A year is a valid FHIR dateTime at that precision: nothing finer is invented.
        form["articleDate"] = f"{reference.year:04d}"
    if form:
        artifact["publicationForm"] = [form]
    authors = reference.ordered_authors
    if authors:
        artifact["contributorship"] = {
            "complete": not reference.authors_truncated,
            "entry": [
                {
                    "contributor": {
                        "display": a.family
                        if a.is_corporate or not a.given
                        else f"{a.family} {a.given}"
                    },
                    "rankingOrder": index,
                }
                for index, a in enumerate(authors, start=1)
            ],
        }
    links = [url for url in (reference.url,) if url]
    if reference.doi:
        links.append(f"https://doi.org/{reference.doi}")
    if links:
        artifact["webLocation"] = [{"url": url} for url in links]
    resource = {
        "resourceType": "Citation",
        "id": citation_id(reference),
        "status": "active",
        "title": reference.title[:250],
        "citedArtifact": artifact,
    }
    if base_url:
        resource["url"] = f"{base_url}{reference.get_absolute_url()}"
    return resource


# -- EvidenceVariable --------------------------------------------------------------------------


def therapy_variable(therapy: Therapy) -> dict:
    resource = {
        "resourceType": "EvidenceVariable",
        "id": f"therapy-{therapy.slug}",
        "status": "active",
        "name": therapy.slug.replace("-", "_"),
        "title": therapy.name,
        "handling": "dichotomous",
    }
    if therapy.mechanism:
        resource["description"] = therapy.mechanism
    return resource


def outcome_variable(measure: str) -> dict:
    return {
        "resourceType": "EvidenceVariable",
        "id": f"outcome-{measure.replace('_', '-')}",
        "status": "active",
        "name": measure,
        "title": OutcomeMeasure(measure).label,
    }


def subtype_variable(subtype: DiseaseSubtype) -> dict:
    resource = {
        "resourceType": "EvidenceVariable",
        "id": f"subtype-{subtype.code}",
        "status": "active",
        "name": subtype.code.replace("-", "_"),
        "title": subtype.name,
    }
    if subtype.description:
        resource["description"] = subtype.description
    return resource


# -- Evidence ----------------------------------------------------------------------------------


def _variable(role: str, description: str, observed: dict | None = None) -> dict:
    out = {"variableRole": _concept(VARIABLE_ROLE, role), "description": description}
    if observed:
        out["observed"] = observed
    return out


def _arm_text(arm: Arm) -> str:
    regimen = ", ".join(v for v in (arm.dose, arm.route, arm.schedule, arm.duration) if v)
    return f"{arm.label}" + (f" ({regimen})" if regimen else "")


def _proportion(description: str, responders: int | None, n: int | None) -> dict | None:
    if responders is None and n is None:
        return None
    stat: dict = {
        "description": description,
        "statisticType": _concept(STATISTIC_TYPE, "C44256", "Proportion"),
    }
    if responders is not None:
        stat["numberOfEvents"] = responders
    if n is not None:
        stat["sampleSize"] = {"numberOfParticipants": n}
    if responders is not None and n:
        stat["quantity"] = {"value": round(responders / n, 4)}
    return stat


def _certainty(synthesis: Synthesis, therapy: Therapy, subtype: DiseaseSubtype) -> dict | None:
    code = CERTAINTY_CODES.get(synthesis.certainty)
    if code is None:
        return None
    return {
        "description": f"Certainty of the body of evidence for {therapy.name} in "
        f"{subtype.name} (GRADE)",
        "type": _concept(CERTAINTY_TYPE, "Overall", "Overall certainty"),
        "rating": _concept(CERTAINTY_RATING, code, Certainty(synthesis.certainty).label),
        **({"note": [{"text": r.text} for r in synthesis.reasons]} if synthesis.reasons else {}),
    }


def evidence(outcome: Outcome, study: Study, cells: dict, base_url: str = "") -> dict:
    """An Evidence resource for one outcome of a study (the study's relations prefetched)."""
    arms = list(study.arms.all())
    tested = [a for a in arms if a.role == ArmRole.TESTED and a.therapy is not None]
    tested_therapies = list({a.therapy.pk: a.therapy for a in tested}.values()) or list(
        study.therapies.all()
    )
    comparators = [a for a in arms if a.role == ArmRole.COMPARATOR]
    subtypes = list(study.subtypes.all())
    variables = [
        _variable(
            "population",
            "Patients with " + ", ".join(s.name for s in subtypes)
            if subtypes
            else "Population not stated",
            _ref("EvidenceVariable", f"subtype-{subtypes[0].code}", subtypes[0].name)
            if len(subtypes) == 1
            else None,
        )
    ]
    for therapy in tested_therapies:
        variables.append(
            _variable(
                "exposure",
                therapy.name,
                _ref("EvidenceVariable", f"therapy-{therapy.slug}", therapy.name),
            )
        )
    for arm in comparators:
        observed = (
            _ref("EvidenceVariable", f"therapy-{arm.therapy.slug}", arm.therapy.name)
            if arm.therapy is not None
            else None
        )
        variables.append(_variable("referenceExposure", _arm_text(arm), observed))
    if not comparators and study.comparator:
        variables.append(_variable("referenceExposure", study.comparator))
    measure = OutcomeMeasure(outcome.measure)
    variables.append(
        _variable(
            "measuredVariable",
            measure.label
            + (f": {outcome.description}" if outcome.description else "")
            + (f" at {outcome.timepoint}" if outcome.timepoint else ""),
            _ref("EvidenceVariable", f"outcome-{outcome.measure.replace('_', '-')}", measure.label),
        )
    )
    statistics = []
    for result in outcome.arm_results.all():
        stat = _proportion(
            f"Responders in the arm {_arm_text(result.arm)} "
            f"({result.arm.get_role_display().lower()})",
            result.responders,
            result.n,
        )
        if stat is not None:
            statistics.append(stat)
    if not statistics:
        stat = _proportion("Responders in the study", outcome.responders, outcome.n)
        if stat is not None:
            statistics.append(stat)
    certainty = [
        c
        for therapy in tested_therapies
        for subtype in subtypes
        if (cell := cells.get((therapy.pk, subtype.pk))) is not None
        and (c := _certainty(cell, therapy, subtype)) is not None
    ]
    resource: dict = {
        "resourceType": "Evidence",
        "id": f"outcome-{outcome.pk}",
        "status": "active",
        "title": f"{study.label}: {measure.label}"[:250],
        "citeAsReference": _ref("Citation", citation_id(study.reference)),
        "description": study.summary,
        "variableDefinition": variables,
    }
    if base_url:
        resource["url"] = f"{base_url}{study.get_absolute_url()}"
    if outcome.value:
        resource["note"] = [{"text": f"Reported value: {outcome.value}"}]
    if statistics:
        resource["statistic"] = statistics
    if certainty:
        resource["certainty"] = certainty
    if study.trial is not None and study.trial.registry_ids:
        resource["relatedArtifact"] = [
            {
                "type": "documentation",
                "label": rid,
                "display": f"Registry record of {study.trial.name}",
                "document": {"url": url, "title": rid},
            }
            for rid in study.trial.registry_ids
            if (url := registry_url(rid))
        ]
    return resource


# -- Bundles -----------------------------------------------------------------------------------


def published_studies() -> QuerySet[Study]:
    return Study.objects.published()


def studies_for_export(studies: QuerySet[Study]) -> QuerySet[Study]:
    return (
        studies.select_related("reference", "trial")
        .prefetch_related(
            "therapies",
            "subtypes",
            Prefetch("arms", queryset=Arm.objects.select_related("therapy")),
            Prefetch("outcomes", queryset=Outcome.objects.prefetch_related("arm_results__arm")),
        )
        .order_by("pk")
    )


# -- Studies as plain rows, for the Bundles -------------------------------------------------
#
# ``evidence()`` reads a study through its attributes and related managers. For one outcome
# (the Evidence view) that is a Study with its prefetches; for a Bundle of every study, model
# instances with five prefetches each cost most of the export's time (the full Bundle streamed
# at 3.5 MB/s at +100k studies, bench/RESULTS.md). A Bundle's studies are therefore read as
# plain values per batch, one query per table, and handed to ``evidence()`` as light objects
# with the same attributes; therapies and subtypes are the same few instances for every study.
# Written by hand because no library turns values into objects that stand in for a model's
# related managers; tests/test_render_identity.py holds the bytes of the Bundles as the
# instance-based loop wrote them, which this one reproduces.


class _Many(list):
    """Stands in for a prefetched related manager: ``.all()`` is the list."""

    def all(self):
        return self


class _ArmRow(SimpleNamespace):
    def get_role_display(self) -> str:
        return ARM_ROLES.get(self.role, self.role)


class _StudyRow(SimpleNamespace):
    def get_absolute_url(self) -> str:
        return self.url


ARM_ROLES = choice_labels(Arm, "role")


def _bundle_studies(studies: QuerySet[Study], batch_size: int = 500) -> Iterator[_StudyRow]:
    """``studies`` (ordered as given) as objects ``evidence()`` reads, a batch at a time."""
    therapies = {t.pk: t for t in Therapy.objects.all()}
    therapy_rank = {pk: i for i, pk in enumerate(therapies)}  # the model's ordering
    subtypes = {s.pk: s for s in DiseaseSubtype.objects.all()}
    subtype_rank = {pk: i for i, pk in enumerate(subtypes)}
    url = study_url()
    fields = (
        "pk",
        "label",
        "comparator",
        "summary",
        "reference_id",
        "trial_id",
        "trial__name",
        "trial__registry_ids",
    )
    for found in value_batches(studies, fields, batch_size):
        rows = {row["pk"]: row for row in found}
        batch = list(rows)
        keys = keys_in(batch)
        linked: dict[int, list] = {pk: [] for pk in batch}
        for study_id, therapy_id in Study.therapies.through.objects.filter(
            study_id__in=keys
        ).values_list("study_id", "therapy_id"):
            linked[study_id].append(therapies[therapy_id])
        of_subtypes: dict[int, list] = {pk: [] for pk in batch}
        for study_id, subtype_id in Study.subtypes.through.objects.filter(
            study_id__in=keys
        ).values_list("study_id", "diseasesubtype_id"):
            of_subtypes[study_id].append(subtypes[subtype_id])
        arms: dict[int, _Many] = {pk: _Many() for pk in batch}
        arm_by_id: dict[int, _ArmRow] = {}
        for arm_id, study_id, label, role, dose, route, schedule, duration, therapy_id in (
            Arm.objects.filter(study_id__in=keys)
            .order_by("study_id", "order", "pk")
            .values_list(
                "pk",
                "study_id",
                "label",
                "role",
                "dose",
                "route",
                "schedule",
                "duration",
                "therapy_id",
            )
        ):
            arm = _ArmRow(
                label=label,
                role=role,
                dose=dose,
                route=route,
                schedule=schedule,
                duration=duration,
                therapy=therapies.get(therapy_id),
            )
            arms[study_id].append(arm)
            arm_by_id[arm_id] = arm
        results: dict[int, _Many] = {}
        for outcome_id, arm_id, responders, n in (
            OutcomeArmResult.objects.filter(outcome__study_id__in=keys)
            .order_by("outcome_id", "arm__order", "pk")
            .values_list("outcome_id", "arm_id", "responders", "n")
        ):
            results.setdefault(outcome_id, _Many()).append(
                SimpleNamespace(arm=arm_by_id[arm_id], responders=responders, n=n)
            )
        outcomes: dict[int, _Many] = {pk: _Many() for pk in batch}
        for pk, study_id, measure, description, timepoint, value, responders, n in (
            Outcome.objects.filter(study_id__in=keys)
            .order_by("study_id", "order", "pk")
            .values_list(
                "pk", "study_id", "measure", "description", "timepoint", "value", "responders", "n"
            )
        ):
            outcomes[study_id].append(
                SimpleNamespace(
                    pk=pk,
                    measure=measure,
                    description=description,
                    timepoint=timepoint,
                    value=value,
                    responders=responders,
                    n=n,
                    arm_results=results.get(pk, _Many()),
                )
            )
        for pk in batch:
            row = rows[pk]
            trial = (
                SimpleNamespace(name=row["trial__name"], registry_ids=row["trial__registry_ids"])
                if row["trial_id"] is not None
                else None
            )
            yield _StudyRow(
                pk=pk,
                label=row["label"],
                comparator=row["comparator"],
                summary=row["summary"],
                reference=SimpleNamespace(pk=row["reference_id"]),
                trial=trial,
                url=url(pk),
                therapies=_Many(sorted(linked[pk], key=lambda t: therapy_rank[t.pk])),
                subtypes=_Many(sorted(of_subtypes[pk], key=lambda s: subtype_rank[s.pk])),
                arms=arms[pk],
                outcomes=outcomes[pk],
            )


def certainty_cells() -> dict:
    """(therapy id, subtype id) -> Synthesis of the published evidence (memoized matrix)."""
    from evidence.selectors import evidence_matrix

    matrix = evidence_matrix(Study.objects.published(), therapies=Therapy.objects.published())
    return {key: cell.synthesis for key, cell in matrix.cells.items()}


def bundle_entries(
    studies: QuerySet[Study], *, all_references: bool = False, base_url: str = ""
) -> Iterator[dict]:
    """Every resource of a Bundle of ``studies`` (published ones), one at a time."""
    studies = studies.filter(status=ReviewStatus.PUBLISHED)
    ids = studies.order_by().values("pk")
    references = Reference.objects.published().with_authors().order_by("pk")
    if not all_references:
        references = references.filter(studies__in=ids).distinct()
    for reference in one_at_a_time(references.iterator(chunk_size=CHUNK_SIZE)):
        yield citation(reference, base_url)
    therapy_ids = set(
        Arm.objects.filter(study__in=ids, therapy__isnull=False).values_list(
            "therapy_id", flat=True
        )
    )
    therapy_ids |= set(
        Study.therapies.through.objects.filter(study__in=ids).values_list("therapy_id", flat=True)
    )
    for therapy in Therapy.objects.published().filter(pk__in=therapy_ids).order_by("slug"):
        yield therapy_variable(therapy)
    for subtype in (
        DiseaseSubtype.objects.published()
        .filter(studies__in=ids)
        .distinct()
        .order_by("order", "code")
    ):
        yield subtype_variable(subtype)
    measures = (
        Outcome.objects.filter(study__in=ids)
        .order_by("measure")
        .values_list("measure", flat=True)
        .distinct()
    )
    for measure in measures:
        yield outcome_variable(measure)
    cells = certainty_cells()
    for study in _bundle_studies(studies.order_by("pk")):
        for outcome in study.outcomes.all():
            yield evidence(outcome, study, cells, base_url)


def bundle_json(bundle_id: str, entries: Iterable[dict], base_url: str = "") -> Iterator[str]:
    """A collection Bundle as JSON text, written entry by entry (flat memory)."""
    yield (
        json.dumps(
            {"resourceType": "Bundle", "id": bundle_id, "type": "collection"}, ensure_ascii=False
        )[:-1]
        + ', "entry": ['
    )
    for index, resource in enumerate(entries):
        entry = {
            "fullUrl": f"{base_url}/api/fhir/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }
        yield ("," if index else "") + "\n" + json.dumps(entry, ensure_ascii=False)
    yield "\n]}\n"


def full_bundle(base_url: str = "") -> Iterator[str]:
    """Everything published, as one Bundle (``/api/fhir/Bundle/all`` and releases)."""
    return bundle_json(
        "all", bundle_entries(published_studies(), all_references=True, base_url=base_url), base_url
    )
