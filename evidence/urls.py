from django.urls import path

from evidence import views

app_name = "evidence"

urlpatterns = [
    path("subtypes/", views.SubtypeListView.as_view(), name="subtype_list"),
    path("subtypes/<slug:slug>/", views.SubtypeDetailView.as_view(), name="subtype_detail"),
    path("studies/", views.StudyListView.as_view(), name="study_list"),
    path("studies/<int:pk>/", views.StudyDetailView.as_view(), name="study_detail"),
]
