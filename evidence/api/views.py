"""Subtypes, designs, studies, outcomes, statements, the matrix and search in the API."""

from __future__ import annotations

import re

from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exports import rows_as_csv
from core.api.renderers import ExportRenderer
from core.api.viewsets import ListViewSet, ReadViewSet, WriteViewSet
from core.caching.data import count_by
from core.formats import download
from evidence.api import serializers as s
from evidence.api.filters import OutcomeFilterSet, StatementFilterSet
from evidence.choices import StudyDesign
from evidence.exports import studies_csv
from evidence.filtersets import StudyFilterSet, SubtypeFilterSet
from evidence.levels import suggested_level
from evidence.models import DiseaseSubtype, Outcome, Statement, Study, Trial
from evidence.search import search
from evidence.selectors import (
    design_counts,
    evidence_cutoff,
    evidence_matrix,
    study_facets,
    summary_of_findings,
)
from evidence.services.statements import create_statement, update_statement
from evidence.services.studies import create_study, update_study
from references.models import Reference
from therapies.models import Therapy

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")


def visible_studies(request):
    return Study.objects.restrict(request.user)


@extend_schema_view(
    list=extend_schema(summary="List disease subtypes"),
    retrieve=extend_schema(summary="One subtype (by slug or code)"),
)
class SubtypeViewSet(ReadViewSet):
    serializer_class = s.SubtypeSerializer
    filterset_class = SubtypeFilterSet
    lookup_field = "slug"
    export_name = "subtypes"
    csv_columns = ("code", "slug", "name", "abbreviation", "synonyms", "study_count")

    def get_queryset(self):
        return DiseaseSubtype.objects.restrict(self.request.user).order_by("order", "name")

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "study_counts": count_by(visible_studies(self.request), "subtypes"),
        }

    def get_object(self):
        value = self.kwargs["slug"]
        if not SLUG_RE.match(value):
            raise Http404("No such subtype.")
        queryset = self.get_queryset()
        instance = queryset.filter(slug=value).first() or queryset.filter(code=value).first()
        if instance is None:
            raise Http404("No such subtype.")
        return instance


@extend_schema_view(
    list=extend_schema(
        summary="List study designs",
        description="Every design code with the level of evidence it suggests "
        "and how many studies use it.",
    ),
    retrieve=extend_schema(summary="One design (by code)"),
)
class DesignViewSet(ReadViewSet):
    serializer_class = s.DesignSerializer
    lookup_field = "code"
    export_name = "designs"
    csv_columns = ("code", "label", "suggested_level", "randomised", "study_count")
    filter_backends = ()

    def get_queryset(self):  # for the schema generator; designs are not rows
        return Study.objects.none()

    def designs(self) -> list[dict]:
        counts = design_counts(visible_studies(self.request))
        return [
            {
                "code": code,
                "label": label,
                "suggested_level": suggested_level(code),
                "randomised": code in StudyDesign.randomised(),
                "study_count": counts.get(code, 0),
            }
            for code, label in StudyDesign.choices
        ]

    def list(self, request, *args, **kwargs):
        def build(count):
            rows = self.designs()
            if isinstance(request.accepted_renderer, ExportRenderer):
                self.paginator.validate(request)
                return download(
                    rows_as_csv(rows, self.csv_columns),
                    request.accepted_renderer.format,
                    "myoevidence-designs",
                )
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(s.DesignSerializer(page, many=True).data)

        return self.respond_for(request, visible_studies(request), build)

    def retrieve(self, request, *args, **kwargs):
        code = kwargs["code"]
        if code not in StudyDesign.values:
            raise Http404("No such design.")

        def build(count):
            row = next(d for d in self.designs() if d["code"] == code)
            return Response(s.DesignSerializer(row).data)

        return self.respond_for(request, visible_studies(request), build)


@extend_schema_view(
    list=extend_schema(
        summary="List studies",
        description="Filterable like the studies page. `?format=csv` returns every matching "
        "study, unpaginated, with exactly the columns of the site's CSV export.",
    ),
    retrieve=extend_schema(summary="One study (by id)"),
)
class StudyViewSet(WriteViewSet):
    serializer_class = s.StudySerializer
    write_serializer_class = s.StudyWriteSerializer
    filterset_class = StudyFilterSet
    export_name = "studies"

    def get_queryset(self):
        if self.action == "list" and not isinstance(
            getattr(self.request, "accepted_renderer", None), ExportRenderer
        ):
            # StudyListSerializer reads the related rows of the page itself, as values.
            return visible_studies(self.request).select_related("reference", "trial")
        return visible_studies(self.request).for_detail()

    def export(self, fmt, queryset):
        # The site's own CSV writer, so the API's export matches the page's byte for byte.
        return studies_csv(queryset, base_url=self.request.build_absolute_uri("/")[:-1])

    def perform_create(self, serializer):
        return create_study(**serializer.validated_data, **self.write_arguments(created=True))

    def perform_update(self, serializer):
        return update_study(
            study=serializer.instance,
            **serializer.validated_data,
            **self.write_arguments(created=False),
        )

    @extend_schema(
        summary="Count studies per design, result, level, age group, therapy and "
        "subtype (honours the filters)",
        responses=s.StudyCountsSerializer,
        filters=True,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def counts(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        return self.respond_for(request, queryset, lambda count: self.counts_data(queryset, count))

    def counts_data(self, queryset, count: int) -> Response:
        facets = study_facets(Study.objects.filter(pk__in=queryset.values("pk")).order_by())
        data = {"count": count, **facets}
        return Response(s.StudyCountsSerializer(data).data)


@extend_schema_view(
    list=extend_schema(summary="List outcomes (of the studies you may see)"),
    retrieve=extend_schema(summary="One outcome (by id)"),
)
class OutcomeViewSet(ReadViewSet):
    serializer_class = s.OutcomeSerializer
    filterset_class = OutcomeFilterSet
    export_name = "outcomes"
    csv_columns = (
        "id",
        "study",
        "measure",
        "description",
        "timepoint",
        "responders",
        "n",
        "value",
        "is_primary",
        "display_value",
    )

    def get_queryset(self):
        return Outcome.objects.filter(
            study__in=visible_studies(self.request).values("pk")
        ).order_by("study", "order", "pk")


@extend_schema_view(
    list=extend_schema(summary="List the review's statements"),
    retrieve=extend_schema(summary="One statement (by id)"),
)
class StatementViewSet(WriteViewSet):
    serializer_class = s.StatementSerializer
    write_serializer_class = s.StatementWriteSerializer
    filterset_class = StatementFilterSet
    export_name = "statements"
    csv_columns = ("id", "key", "therapy", "text", "studies", "references", "status")

    def get_queryset(self):
        user = self.request.user
        return (
            Statement.objects.restrict(user)
            .select_related("therapy")
            .prefetch_related(
                Prefetch("studies", queryset=Study.objects.restrict(user).only("pk")),
                Prefetch("references", queryset=Reference.objects.restrict(user).only("pk")),
            )
            .order_by("therapy__name", "order", "pk")
        )

    def perform_create(self, serializer):
        return create_statement(**serializer.validated_data, **self.write_arguments(created=True))

    def perform_update(self, serializer):
        return update_statement(
            statement=serializer.instance,
            # The read side shows only the studies and references this user may see.
            **self.with_hidden_links(serializer, "studies", "references"),
            **self.write_arguments(created=False),
        )


@extend_schema_view(
    list=extend_schema(
        summary="The drug x subtype evidence matrix",
        description="Per therapy and subtype: studies, patients, best level of evidence and "
        "result counts, over the studies the filters select (the same filters as "
        "/studies/). `?format=csv` gives one row per cell.",
        responses=s.MatrixSerializer,
    )
)
class MatrixViewSet(ListViewSet):
    serializer_class = s.MatrixSerializer
    filterset_class = StudyFilterSet
    pagination_class = None
    export_name = "matrix"
    csv_columns = (
        "therapy",
        "subtype",
        "studies",
        "patients",
        "studies_without_size",
        "best_level",
        "dominant_result",
        *(f"results.{code}" for code in s.ResultDirection.values),
        "certainty",
        "direction",
        "trials",
        "patients_mixed_population",
        "safety_signals",
        "key_studies",
    )

    def get_queryset(self):
        return visible_studies(self.request)

    def list(self, request, *args, **kwargs):
        studies = self.filter_queryset(self.get_queryset())

        def build(count):
            data = self.matrix_data(studies)
            if isinstance(request.accepted_renderer, ExportRenderer):
                return download(
                    rows_as_csv(data["cells"], self.csv_columns),
                    request.accepted_renderer.format,
                    "myoevidence-matrix",
                )
            return Response(data)

        return self.respond_for(request, studies, build)

    def matrix_data(self, studies) -> dict:
        matrix = evidence_matrix(studies)
        # The filters' studies: /matrix/?year_max=2005 holds nothing newer than 2005.
        cutoff = evidence_cutoff(self.request.user, studies)
        subtype_order = {subtype.pk: i for i, subtype in enumerate(matrix.subtypes)}
        therapy_order = {therapy.pk: i for i, therapy in enumerate(matrix.therapies)}
        cells = sorted(
            matrix.cells.values(),
            key=lambda c: (therapy_order[c.therapy.pk], subtype_order[c.subtype.pk]),
        )
        return {
            "evidence_cutoff": cutoff.iso,
            "source_review_year": cutoff.review_year,
            "therapies": [
                {"slug": t.slug, "name": t.name, "drug_class": t.drug_class.slug}
                for t in matrix.therapies
            ],
            "subtypes": [{"code": st.code, "name": st.name} for st in matrix.subtypes],
            "cells": [
                {
                    "therapy": c.therapy.slug,
                    "subtype": c.subtype.code,
                    "studies": c.studies,
                    "patients": c.patients,
                    "studies_without_size": c.studies_without_size,
                    "best_level": c.best_level,
                    "results": dict(c.results),
                    "dominant_result": c.dominant_result,
                    **synthesis_data(c.synthesis),
                }
                for c in cells
            ],
        }


def synthesis_data(synthesis) -> dict:
    """The synthesis fields of the API (serializers.SynthesisFieldsSerializer)."""
    return {
        "certainty": synthesis.certainty,
        "suggested_certainty": synthesis.suggested_certainty,
        "certainty_overridden": synthesis.overridden,
        "certainty_reasons": synthesis.reason_dicts,
        "direction": synthesis.direction,
        "trials": synthesis.trials,
        "patients": synthesis.patients,
        "patients_mixed_population": synthesis.patients_mixed_population,
        "safety_signals": synthesis.safety_signals,
        "key_studies": synthesis.key_studies,
        "studies_without_result_data": synthesis.studies_without_data,
    }


@extend_schema_view(
    list=extend_schema(
        summary="List trials and cohorts",
        description="Each groups the publications of the same patients, whose "
        "patients count once in the matrix and summaries.",
    ),
    retrieve=extend_schema(summary="One trial (by key)"),
)
class TrialViewSet(ReadViewSet):
    serializer_class = s.TrialSerializer
    lookup_field = "key"
    export_name = "trials"
    filter_backends = ()
    csv_columns = ("key", "name", "kind", "registry_ids", "registry_source_url", "studies")

    def get_queryset(self):
        user = self.request.user
        return (
            Trial.objects.restrict(user)
            .prefetch_related(
                Prefetch(
                    "publications", queryset=Study.objects.restrict(user).only("pk", "trial_id")
                )
            )
            .order_by("name", "key")
        )


@extend_schema_view(
    list=extend_schema(
        summary="Summary of findings: one therapy in one subtype",
        description="Each measured outcome with its studies, trials, patients (deduplicated), "
        "per-arm results and certainty with reasons; the key studies, the safety "
        "signals and the evidence cut-off. The subtype by slug or code.",
        responses=s.SummarySerializer,
    )
)
class SummaryViewSet(ListViewSet):
    serializer_class = s.SummarySerializer
    pagination_class = None
    filter_backends = ()
    list_export_renderers = ()

    def get_queryset(self):
        return visible_studies(self.request)

    def list(self, request, *args, **kwargs):
        therapy = Therapy.objects.restrict(request.user).filter(slug=kwargs["therapy"]).first()
        subtypes = DiseaseSubtype.objects.restrict(request.user)
        subtype = (
            subtypes.filter(slug=kwargs["subtype"]).first()
            or subtypes.filter(code=kwargs["subtype"]).first()
        )
        if therapy is None or subtype is None:
            raise Http404("No such therapy or subtype.")
        studies = self.get_queryset()
        return self.respond_for(
            request, studies, lambda count: Response(self.summary_data(studies, therapy, subtype))
        )

    def summary_data(self, studies, therapy, subtype) -> dict:
        summary = summary_of_findings(studies, therapy, subtype)
        cutoff = evidence_cutoff(self.request.user)
        return {
            "therapy": therapy.slug,
            "subtype": subtype.code,
            "evidence_cutoff": cutoff.iso,
            "evidence_cutoff_text": cutoff.sentence,
            **synthesis_data(summary.synthesis),
            "studies": summary.synthesis.study_ids,
            "studies_without_data": summary.without_data,
            "safety_studies": summary.synthesis.safety_studies,
            "background_studies": [row.pk for row in summary.background],
            "outcomes": [
                {
                    "measure": finding.measure,
                    "label": finding.label,
                    "studies": finding.synthesis.studies,
                    **synthesis_data(finding.synthesis),
                    "results": [
                        {
                            "study": row["study"].pk,
                            "description": row["outcome"].description,
                            "timepoint": row["outcome"].timepoint,
                            "responders": row["outcome"].responders,
                            "n": row["outcome"].n,
                            "value": row["outcome"].value,
                            "display_value": row["outcome"].display_value,
                            "arm_results": [
                                {
                                    "arm": r.arm.label,
                                    "responders": r.responders,
                                    "n": r.n,
                                    "value": r.value,
                                }
                                for r in row["arm_results"]
                            ],
                        }
                        for row in finding.rows
                    ],
                }
                for finding in summary.outcomes
            ],
        }


@extend_schema_view(
    list=extend_schema(
        summary="Search therapies, subtypes, studies and references",
        parameters=[s.SearchQuerySerializer],
        responses=s.SearchResultSerializer,
    )
)
class SearchViewSet(ListViewSet):
    serializer_class = s.SearchResultSerializer
    pagination_class = None
    filter_backends = ()
    list_export_renderers = ()
    conditional = False

    def get_queryset(self):  # for the schema generator; search spans several models
        return Study.objects.none()

    def list(self, request, *args, **kwargs):
        # A plain dict, so that an empty value is a 400 like any other bad value.
        params = s.SearchQuerySerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        query = params.validated_data["q"]
        groups = search(query, user=request.user, limit=params.validated_data["limit"])
        data = {"query": query}
        for group, hits in groups.items():
            data[group] = [self.hit(hit) for hit in hits]
        return Response(data)

    def hit(self, hit) -> dict:
        obj = hit.obj
        ident = {"therapy": lambda: obj.slug, "subtype": lambda: obj.slug}.get(
            hit.kind, lambda: obj.pk
        )()
        return {
            "kind": hit.kind,
            "id": str(ident if hit.kind != "subtype" else obj.code),
            "title": hit.title,
            "snippet": str(hit.snippet),
            "rank": float(hit.rank or 0),
            "page_url": self.request.build_absolute_uri(hit.url),
            "api_url": self.request.build_absolute_uri(reverse(f"{hit.kind}-detail", args=[ident])),
        }
