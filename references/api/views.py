"""The bibliography in the API: JSON, CSV, BibTeX, RIS and CSL-JSON."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action

from core.api.renderers import BibTeXRenderer, CSLJSONRenderer, CSVRenderer, RISRenderer
from core.api.viewsets import WriteViewSet
from references.api.serializers import ReferenceSerializer, ReferenceWriteSerializer
from references.bibtex import ParsedAuthor
from references.filtersets import ReferenceFilterSet
from references.formats import WRITERS
from references.models import Reference
from references.services import create_reference, update_reference

CITATION_RENDERERS = (BibTeXRenderer, RISRenderer, CSLJSONRenderer)


@extend_schema_view(
    list=extend_schema(
        summary="List references",
        description="The bibliography, filterable like the references page. "
        "`?format=bibtex|ris|csljson|csv` exports every match.",
    ),
    retrieve=extend_schema(summary="One reference (by id)"),
)
class ReferenceViewSet(WriteViewSet):
    serializer_class = ReferenceSerializer
    write_serializer_class = ReferenceWriteSerializer
    filterset_class = ReferenceFilterSet
    list_export_renderers = (CSVRenderer, *CITATION_RENDERERS)
    detail_export_renderers = CITATION_RENDERERS
    detail_actions = ("retrieve", "by_number")
    export_name = "references"
    csv_columns = (
        "id",
        "number",
        "authors",
        "year",
        "title",
        "journal",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "pmcid",
        "kind",
        "role",
        "url",
        "citation",
    )

    def get_queryset(self):
        return Reference.objects.restrict(self.request.user).for_list()

    @staticmethod
    def _data(serializer) -> dict:
        data = dict(serializer.validated_data)
        if "author_details" in data:
            data["authors"] = [ParsedAuthor(**a) for a in data.pop("author_details")]
        return data

    def perform_create(self, serializer):
        return create_reference(**self._data(serializer), **self.write_arguments(created=True))

    def perform_update(self, serializer):
        return update_reference(
            reference=serializer.instance,
            **self._data(serializer),
            **self.write_arguments(created=False),
        )

    def get_object(self):
        if "number" not in self.kwargs:
            return super().get_object()
        number = self.kwargs["number"]
        queryset = self.get_queryset()
        instance = (
            get_object_or_404(queryset, number=int(number))
            if number.isdigit() and len(number) < 6
            else get_object_or_404(queryset.none())
        )
        self.check_object_permissions(self.request, instance)
        return instance

    def export(self, fmt, queryset):
        if fmt in WRITERS:
            return WRITERS[fmt](queryset)
        return super().export(fmt, queryset)

    @extend_schema(
        summary="One reference (by its number in the review)",
        parameters=[
            OpenApiParameter(
                "number",
                int,
                OpenApiParameter.PATH,
                description="Citation number in the source review.",
            )
        ],
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"number/(?P<number>[^/]+)",
        url_name="by-number",
        filterset_class=None,
        pagination_class=None,
    )
    def by_number(self, request, *args, **kwargs):
        return self.retrieve(request, *args, **kwargs)
