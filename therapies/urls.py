from django.urls import path

from therapies import views

app_name = "therapies"

urlpatterns = [
    path("", views.TherapyListView.as_view(), name="therapy_list"),
    path("<slug:slug>/", views.TherapyDetailView.as_view(), name="therapy_detail"),
]
