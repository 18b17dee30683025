from django.urls import path

from evidence.views import designs, errors, home, search, studies, subtypes

app_name = "evidence"

urlpatterns = [
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
