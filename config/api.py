"""The REST API's URL map: version 1 under /api/v1/, the OpenAPI schema and its docs.

Each app's ``api/urls.py`` has a router; the root view at /api/v1/ lists what they register.
A later, incompatible version would live beside v1 under /api/v2/.
"""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import APIRootView

from evidence.api import fhir as fhir_api
from evidence.api import urls as evidence_api
from references.api import urls as references_api
from releases.api import urls as releases_api
from therapies.api import urls as therapies_api

APP_ROUTERS = (
    therapies_api.router,
    evidence_api.router,
    references_api.router,
    releases_api.router,
)


class RootView(APIRootView):
    """MyoEvidence API, version 1. Documentation: /api/docs/ (schema: /api/schema/)."""

    schema = None  # not an operation of the API itself


api_root = RootView.as_view(
    api_root_dict={
        prefix: f"{basename}-list"
        for router in APP_ROUTERS
        for prefix, _viewset, basename in router.registry
    }
)


@extend_schema(exclude=True)
@api_view(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@throttle_classes([])
def not_found(request, rest=""):
    """Unknown API paths answer a JSON 404 rather than the site's HTML page."""
    raise NotFound("No such API endpoint. See /api/docs/ for the ones there are.")


urlpatterns = [
    path("api/v1/", api_root, name="api-root"),
    path("api/v1/", include(therapies_api)),
    path("api/v1/", include(evidence_api)),
    path("api/v1/", include(references_api)),
    path("api/v1/", include(releases_api)),
    # HL7 FHIR R5 (Citation, Evidence, EvidenceVariable, Bundle): published content only.
    path("api/fhir/", include(fhir_api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script as a file (/api/docs/?script=), so the
    # Content-Security-Policy needs no inline script (see settings, "Production hardening").
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc styles itself with inline <style> elements and runs its search in a blob: worker:
    # allowed on this page only (scripts stay 'self'-only everywhere).
    path(
        "api/redoc/",
        csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    re_path(r"^api/(?P<rest>.*)$", not_found),
]
