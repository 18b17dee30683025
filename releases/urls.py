from django.urls import path

from releases import feeds, views

app_name = "releases"

urlpatterns = [
    path("releases/", views.ReleaseListView.as_view(), name="release_list"),
    path("releases/<str:version>/", views.ReleaseDetailView.as_view(), name="release_detail"),
    path(
        "releases/<str:version>/<str:name>",
        views.ReleaseArtefactView.as_view(),
        name="release_artefact",
    ),
    path("feeds/changes.atom", feeds.ChangesFeed(), name="feed_all"),
    path("feeds/therapies/<slug:slug>.atom", feeds.TherapyChangesFeed(), name="feed_therapy"),
    path("feeds/subtypes/<slug:slug>.atom", feeds.SubtypeChangesFeed(), name="feed_subtype"),
]
