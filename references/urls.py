from django.urls import path

from references import views

app_name = "references"

urlpatterns = [
    path("", views.ReferenceListView.as_view(), name="reference_list"),
    path("<str:ident>/", views.ReferenceDetailView.as_view(), name="reference_detail"),
]
