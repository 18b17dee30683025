from django.urls import include, path

from core import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("therapies/", include("therapies.urls")),
    path("references/", include("references.urls")),
    path("", include("evidence.urls")),
]
