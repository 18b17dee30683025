"""Therapies and drug classes in the API."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view

from core.api.viewsets import ReadViewSet, WriteViewSet
from core.caching.data import count_by
from therapies.api.serializers import (
    DrugClassSerializer,
    TherapySerializer,
    TherapyWriteSerializer,
)
from therapies.filtersets import DrugClassFilterSet, TherapyFilterSet
from therapies.models import DrugClass, Therapy
from therapies.services import create_therapy, update_therapy


def visible_study_counts(request) -> dict[int, int]:
    """Studies per therapy among those the client may see (the rule of ``restrict``).

    The study model is reached through the relation so that this app does not import
    ``evidence`` (dependencies point one way).
    """
    study_model = Therapy._meta.get_field("studies").related_model
    return count_by(study_model.objects.restrict(request.user), "therapies")


@extend_schema_view(
    list=extend_schema(summary="List therapies"),
    retrieve=extend_schema(summary="One therapy (by slug)"),
)
class TherapyViewSet(WriteViewSet):
    serializer_class = TherapySerializer
    write_serializer_class = TherapyWriteSerializer
    filterset_class = TherapyFilterSet
    lookup_field = "slug"
    export_name = "therapies"
    csv_columns = (
        "slug",
        "name",
        "drug_class",
        "route",
        "position",
        "secondary_position",
        "synonyms",
        "brand_names",
        "study_count",
        "status",
    )

    def get_queryset(self):
        return Therapy.objects.restrict(self.request.user).for_list()

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "study_counts": visible_study_counts(self.request),
        }

    def perform_create(self, serializer):
        return create_therapy(**serializer.validated_data, **self.write_arguments(created=True))

    def perform_update(self, serializer):
        data = {k: v for k, v in serializer.validated_data.items() if k != "slug"}
        return update_therapy(
            therapy=serializer.instance, **data, **self.write_arguments(created=False)
        )


@extend_schema_view(
    list=extend_schema(summary="List drug classes"),
    retrieve=extend_schema(summary="One drug class (by slug)"),
)
class DrugClassViewSet(ReadViewSet):
    serializer_class = DrugClassSerializer
    filterset_class = DrugClassFilterSet
    lookup_field = "slug"
    export_name = "drug-classes"
    csv_columns = ("slug", "name", "mechanism", "order", "therapies")

    def get_queryset(self):
        therapies = Therapy.objects.restrict(self.request.user).order_by("name")
        return DrugClass.objects.restrict(self.request.user).prefetch_related(
            Prefetch("therapies", queryset=therapies)
        )
