from django.urls import path
from rest_framework.routers import SimpleRouter

from evidence.api import views

router = SimpleRouter()
router.register("subtypes", views.SubtypeViewSet, basename="subtype")
router.register("designs", views.DesignViewSet, basename="design")
router.register("studies", views.StudyViewSet, basename="study")
router.register("outcomes", views.OutcomeViewSet, basename="outcome")
router.register("statements", views.StatementViewSet, basename="statement")
router.register("matrix", views.MatrixViewSet, basename="matrix")
router.register("search", views.SearchViewSet, basename="search")
router.register("trials", views.TrialViewSet, basename="trial")

urlpatterns = [
    *router.urls,
    path(
        "summary/<str:therapy>/<str:subtype>/",
        views.SummaryViewSet.as_view({"get": "list"}),
        name="summary-detail",
    ),
]
