"""The FHIR R5 export under /api/fhir/: collection Bundles and single resources.

Published content only, whoever asks (FHIR integrators exchange what the site stands behind;
curators read drafts in the admin). Bundles stream entry by entry (``evidence.fhir``).
"""

from __future__ import annotations

import json
import re

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from core.api.renderers import JSONRenderer, export_renderer
from core.formats import FORMATS
from core.streaming import joined
from evidence import fhir
from evidence.models import DiseaseSubtype, Outcome, Study
from references.models import Reference
from therapies.models import Therapy

FHIRRenderer = export_renderer("fhir")


FHIR_RESPONSE = {
    (200, fhir.MEDIA_TYPE): OpenApiResponse(
        OpenApiTypes.OBJECT, description="A FHIR R5 resource (JSON)."
    ),
    (404, fhir.MEDIA_TYPE): OpenApiResponse(
        OpenApiTypes.OBJECT, description="No such published resource (an OperationOutcome)."
    ),
}


# HTTP status -> FHIR issue type (http://hl7.org/fhir/issue-type).
ISSUE_CODES = {404: "not-found", 406: "not-supported", 429: "throttled"}


class FHIRView(APIView):
    permission_classes = [AllowAny]
    renderer_classes = [FHIRRenderer, JSONRenderer]

    def base_url(self, request) -> str:
        return request.build_absolute_uri("/")[:-1]

    def handle_exception(self, exc):
        """Errors as a FHIR OperationOutcome, which FHIR clients know how to read."""
        response = super().handle_exception(exc)
        data = response.data
        detail = data.get("detail") if isinstance(data, dict) else data
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "code": ISSUE_CODES.get(response.status_code, "processing"),
                    "diagnostics": str(detail or response.status_text),
                }
            ],
        }
        answer = _resource_response(outcome)
        answer.status_code = response.status_code
        if response.status_code != 404:
            # Refusals every endpoint of the API shares (406, 429...) are documented, once
            # for all, as application/json: the same OperationOutcome, labelled so.
            answer["Content-Type"] = "application/json"
        for header, value in response.items():
            if header.lower() != "content-type":
                answer[header] = value
        return answer


class BundleView(FHIRView):
    @extend_schema(
        summary="A FHIR R5 Bundle (collection) of the published evidence",
        description="`all` (everything published), `therapy-<slug>` (the studies testing a "
        "therapy) or `subtype-<slug or code>` (the studies of a subtype). Each "
        "Bundle holds `Citation` (references), `EvidenceVariable` (therapies, "
        "subtypes, outcome measures) and `Evidence` (one per study outcome: "
        "population, exposure, reference exposure, measured variable, responders/n "
        "per arm, GRADE certainty of the therapy in the subtype). Streamed.",
        responses=FHIR_RESPONSE,
        tags=["fhir"],
    )
    def get(self, request, name: str):
        studies = fhir.published_studies()
        if name == "all":
            entries = fhir.bundle_entries(
                studies, all_references=True, base_url=self.base_url(request)
            )
        elif name.startswith("therapy-"):
            therapy = Therapy.objects.published().filter(slug=name[8:]).first()
            if therapy is None:
                raise Http404("No such published therapy.")
            entries = fhir.bundle_entries(
                studies.filter(therapies=therapy), base_url=self.base_url(request)
            )
        elif name.startswith("subtype-"):
            ident = name[8:]
            subtype = (
                DiseaseSubtype.objects.published().filter(slug=ident).first()
                or DiseaseSubtype.objects.published().filter(code=ident).first()
            )
            if subtype is None:
                raise Http404("No such published subtype.")
            entries = fhir.bundle_entries(
                studies.filter(subtypes=subtype), base_url=self.base_url(request)
            )
        else:
            raise Http404("Bundles are all, therapy-<slug> and subtype-<slug>.")
        response = StreamingHttpResponse(
            joined(fhir.bundle_json(name, entries, self.base_url(request))),
            content_type=FORMATS["fhir"].content_type,
        )
        return response


def _resource_response(resource: dict) -> HttpResponse:
    return HttpResponse(
        json.dumps(resource, ensure_ascii=False), content_type=FORMATS["fhir"].content_type
    )


class CitationView(FHIRView):
    @extend_schema(
        summary="One reference as a FHIR R5 Citation (id: ref-<id>)",
        responses=FHIR_RESPONSE,
        tags=["fhir"],
    )
    def get(self, request, ident: str):
        match = re.fullmatch(r"ref-(\d{1,12})", ident)
        reference = (
            match and Reference.objects.published().with_authors().filter(pk=int(match[1])).first()
        )
        if not reference:
            raise Http404("No such published reference.")
        return _resource_response(fhir.citation(reference, self.base_url(request)))


class EvidenceView(FHIRView):
    @extend_schema(
        summary="One study outcome as a FHIR R5 Evidence (id: outcome-<id>)",
        responses=FHIR_RESPONSE,
        tags=["fhir"],
    )
    def get(self, request, ident: str):
        match = re.fullmatch(r"outcome-(\d{1,12})", ident)
        outcome = (
            match
            and Outcome.objects.filter(
                pk=int(match[1]), study__in=Study.objects.published()
            ).first()
        )
        if not outcome:
            raise Http404("No such published outcome.")
        study = fhir.studies_for_export(Study.objects.filter(pk=outcome.study_id)).get()
        outcome = next(o for o in study.outcomes.all() if o.pk == outcome.pk)
        return _resource_response(
            fhir.evidence(outcome, study, fhir.certainty_cells(), self.base_url(request))
        )


class EvidenceVariableView(FHIRView):
    @extend_schema(
        summary="A therapy, subtype or outcome measure as a FHIR R5 "
        "EvidenceVariable (therapy-<slug>, subtype-<code>, outcome-<code>)",
        responses=FHIR_RESPONSE,
        tags=["fhir"],
    )
    def get(self, request, ident: str):
        kind, _, rest = ident.partition("-")
        resource = None
        if kind == "therapy":
            therapy = Therapy.objects.published().filter(slug=rest).first()
            resource = therapy and fhir.therapy_variable(therapy)
        elif kind == "subtype":
            subtype = DiseaseSubtype.objects.published().filter(code=rest).first()
            resource = subtype and fhir.subtype_variable(subtype)
        elif kind == "outcome":
            measure = rest.replace("-", "_")
            if measure in fhir.OutcomeMeasure.values:
                resource = fhir.outcome_variable(measure)
        if not resource:
            raise Http404("No such published variable.")
        return _resource_response(resource)


urlpatterns = [
    path("Bundle/<str:name>", BundleView.as_view(), name="fhir-bundle"),
    path("Citation/<str:ident>", CitationView.as_view(), name="fhir-citation"),
    path("Evidence/<str:ident>", EvidenceView.as_view(), name="fhir-evidence"),
    path(
        "EvidenceVariable/<str:ident>", EvidenceVariableView.as_view(), name="fhir-evidencevariable"
    ),
]
