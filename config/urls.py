"""Top-level URL map: public pages, the admin, and the API."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # The REST API (/api/v1/), its OpenAPI schema and documentation: see config/api.py.
    path("", include("config.api")),
    # Public pages: each app's urls.py lists every page it serves. A page that joins apps is
    # served by the highest app it needs (docs/architecture.md, "Layout"): the /therapies/
    # pages show studies, so evidence/urls.py serves them.
    path("", include("evidence.urls")),
    path("references/", include("references.urls")),
    # Data releases (/releases/) and the Atom feeds of published changes (/feeds/).
    path("", include("releases.urls")),
]

handler404 = "evidence.views.errors.page_not_found"
handler500 = "evidence.views.errors.server_error"
