"""Every public page evidence serves, under the namespace of its URL prefix.

Layout (docs/architecture.md): a page that joins several apps lives in the highest app it
needs, in a views module named for its URL prefix. So the /therapies/ pages, which show the
studies and statements about a therapy, are evidence's (``evidence/views/therapies.py``), under
the ``therapies`` namespace; everything else here is in the ``evidence`` namespace.
"""

from django.urls import include, path

from evidence.views import designs, errors, home, search, studies, subtypes, therapies

evidence_pages = [
    path("", home.HomeView.as_view(), name="home"),
    path("about/", home.AboutView.as_view(), name="about"),
    path("search/", search.SearchView.as_view(), name="search"),
    path("subtypes/", subtypes.SubtypeListView.as_view(), name="subtype_list"),
    path("subtypes/<slug:slug>/", subtypes.SubtypeDetailView.as_view(), name="subtype_detail"),
    path("designs/", designs.DesignListView.as_view(), name="design_list"),
    path("designs/<slug:slug>/", designs.DesignDetailView.as_view(), name="design_detail"),
    path("studies/", studies.StudyListView.as_view(), name="study_list"),
    path("studies/export.csv", studies.StudyCsvView.as_view(), name="study_export"),
    path("studies/<int:pk>/", studies.StudyDetailView.as_view(), name="study_detail"),
    path("healthz", errors.healthz, name="healthz"),
]

therapy_pages = [
    path("", therapies.TherapyListView.as_view(), name="therapy_list"),
    path("<slug:slug>/", therapies.TherapyDetailView.as_view(), name="therapy_detail"),
    path(
        "<slug:slug>/<slug:subtype>/",
        therapies.SummaryOfFindingsView.as_view(),
        name="summary_of_findings",
    ),
]

urlpatterns = [
    path("", include((evidence_pages, "evidence"))),
    path("therapies/", include((therapy_pages, "therapies"))),
]
