"""The FHIR R5 export: every resource of a full export validates with fhir.resources (R5),
and nothing unpublished is ever exported."""

import json

import pytest
from fhir.resources import get_fhir_model_class
from fhir.resources.bundle import Bundle

from core.choices import ReviewStatus
from evidence.models import OutcomeArmResult, Study, Trial
from references.models import Reference

pytestmark = pytest.mark.django_db


def bundle(client, name):
    response = client.get(f"/api/fhir/Bundle/{name}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/fhir+json")
    return json.loads(b"".join(response.streaming_content))


def test_full_export_every_resource_validates_as_r5(client):
    data = bundle(client, "all")
    Bundle.model_validate(data)  # the whole Bundle, nested resources included
    kinds = set()
    for entry in data["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"])
        parsed = model.model_validate(resource)
        assert parsed.id == resource["id"]
        assert entry["fullUrl"].endswith(f"/api/fhir/{resource['resourceType']}/{parsed.id}")
        kinds.add(resource["resourceType"])
    assert kinds == {"Citation", "Evidence", "EvidenceVariable"}
    published_refs = Reference.objects.published().count()
    assert (
        sum(1 for e in data["entry"] if e["resource"]["resourceType"] == "Citation")
        == published_refs
    )
    # Arms' responders/n are exported as statistics, and rated cells as certainty.
    evidences = [
        e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Evidence"
    ]
    assert any(
        s.get("numberOfEvents") is not None for ev in evidences for s in ev.get("statistic", [])
    )
    assert any(ev.get("certainty") for ev in evidences)


def test_citation_identifiers_use_standard_systems(client):
    reference = Reference.objects.published().exclude(pmid="").exclude(doi="").first()
    response = client.get(f"/api/fhir/Citation/ref-{reference.pk}")
    assert response["Content-Type"].startswith("application/fhir+json")
    data = json.loads(response.content)
    get_fhir_model_class("Citation").model_validate(data)
    ids = {i["system"]: i["value"] for i in data["citedArtifact"]["identifier"]}
    assert ids["https://doi.org"] == reference.doi
    assert ids["https://pubmed.ncbi.nlm.nih.gov"] == reference.pmid


def test_arm_counts_and_registry_links_in_evidence(client):
    result = (
        OutcomeArmResult.objects.filter(
            responders__isnull=False, n__isnull=False, outcome__study__status=ReviewStatus.PUBLISHED
        )
        .select_related("outcome")
        .first()
    )
    assert result is not None
    data = json.loads(client.get(f"/api/fhir/Evidence/outcome-{result.outcome_id}").content)
    get_fhir_model_class("Evidence").model_validate(data)
    assert {"numberOfEvents": result.responders, "participants": result.n} in [
        {
            "numberOfEvents": s.get("numberOfEvents"),
            "participants": s.get("sampleSize", {}).get("numberOfParticipants"),
        }
        for s in data["statistic"]
    ]
    roles = [v["variableRole"]["coding"][0]["code"] for v in data["variableDefinition"]]
    assert "population" in roles and "exposure" in roles and "measuredVariable" in roles
    trial = (
        Trial.objects.published()
        .exclude(registry_ids=[])
        .filter(publications__status=ReviewStatus.PUBLISHED, publications__outcomes__isnull=False)
        .first()
    )
    outcome = trial.publications.filter(outcomes__isnull=False).first().outcomes.first()
    data = json.loads(client.get(f"/api/fhir/Evidence/outcome-{outcome.pk}").content)
    urls = [r["document"]["url"] for r in data["relatedArtifact"]]
    assert f"https://clinicaltrials.gov/study/{trial.registry_ids[0]}" in urls


def test_unpublished_study_and_reference_never_exported(client):
    study = Study.objects.published().filter(outcomes__isnull=False).first()
    therapy = study.therapies.first()
    outcome_ids = {f"outcome-{o.pk}" for o in study.outcomes.all()}
    # A reference of its own so that withdrawing it keeps the rule (published shows published).
    reference = study.reference
    Study.objects.filter(reference=reference).update(status=ReviewStatus.DRAFT)
    Reference.objects.filter(pk=reference.pk).update(status=ReviewStatus.DRAFT)
    for name in ("all", f"therapy-{therapy.slug}"):
        ids = {e["resource"]["id"] for e in bundle(client, name)["entry"]}
        assert not outcome_ids & ids
        assert f"ref-{reference.pk}" not in ids
    assert client.get(f"/api/fhir/Citation/ref-{reference.pk}").status_code == 404
    assert client.get(f"/api/fhir/Evidence/{sorted(outcome_ids)[0]}").status_code == 404


def test_therapy_and_subtype_bundles(client):
    study = Study.objects.published().filter(outcomes__isnull=False).first()
    therapy, subtype = study.therapies.first(), study.subtypes.first()
    for name in (f"therapy-{therapy.slug}", f"subtype-{subtype.slug}"):
        data = bundle(client, name)
        Bundle.model_validate(data)
        ids = {e["resource"]["id"] for e in data["entry"]}
        assert f"outcome-{study.outcomes.first().pk}" in ids
        assert f"ref-{study.reference_id}" in ids
    for url in (
        "/api/fhir/Bundle/therapy-no-such",
        "/api/fhir/Bundle/bogus",
        "/api/fhir/EvidenceVariable/outcome-nothing",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/fhir+json")
        outcome = get_fhir_model_class("OperationOutcome").model_validate(
            json.loads(response.content)
        )
        assert outcome.issue[0].code == "not-found"


def test_fhir_endpoints_documented(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/fhir/Bundle/{name}" in schema["paths"]
    assert "/api/fhir/Citation/{ident}" in schema["paths"]


def test_bundle_studies_read_as_values_give_what_the_model_instances_give():
    # A Bundle reads its studies as plain values per batch (evidence.fhir._bundle_studies);
    # every Evidence resource must be what the same study read as a model instance gives.
    from evidence import fhir

    studies = Study.objects.published().order_by("pk")
    cells = fhir.certainty_cells()
    instances = {s.pk: s for s in fhir.studies_for_export(studies)}
    rows = list(fhir._bundle_studies(studies, batch_size=4))  # 43 studies: batches join up
    assert [row.pk for row in rows] == list(studies.values_list("pk", flat=True))
    compared = 0
    for row in rows:
        study = instances[row.pk]
        by_values = [fhir.evidence(o, row, cells, "https://x.org") for o in row.outcomes.all()]
        by_model = [fhir.evidence(o, study, cells, "https://x.org") for o in study.outcomes.all()]
        assert by_values == by_model, row.label
        compared += len(by_model)
    assert compared > 40  # outcomes with arms, per-arm results, trials and certainty among them
