"""Releases in the API: read only, like the releases themselves."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from releases.api import serializers as s
from releases.models import Release


@extend_schema_view(
    list=extend_schema(summary="List data releases (newest first), with their checksums"),
    retrieve=extend_schema(summary="One data release (by version), with its changelog"),
)
class ReleaseViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ReleaseSerializer
    lookup_field = "version"
    lookup_value_regex = "[^/]+"
    queryset = Release.objects.prefetch_related("artefacts")

    def get_serializer_class(self):
        return s.ReleaseDetailSerializer if self.action == "retrieve" else s.ReleaseSerializer
