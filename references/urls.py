from django.urls import path

from references import views

app_name = "references"

urlpatterns = [
    path("", views.ReferenceListView.as_view(), name="reference_list"),
    path("export/<str:fmt>/", views.ReferenceExportView.as_view(), name="reference_export"),
    path("<str:ident>/", views.ReferenceDetailView.as_view(), name="reference_detail"),
    path("<str:ident>/cite/<str:fmt>/", views.ReferenceCiteView.as_view(), name="reference_cite"),
]
