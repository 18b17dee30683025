from django.urls import path

from evidence.views import therapies

app_name = "therapies"

urlpatterns = [
    path("", therapies.TherapyListView.as_view(), name="therapy_list"),
    path("<slug:slug>/", therapies.TherapyDetailView.as_view(), name="therapy_detail"),
    path(
        "<slug:slug>/<slug:subtype>/",
        therapies.SummaryOfFindingsView.as_view(),
        name="summary_of_findings",
    ),
]
