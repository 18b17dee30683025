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

urlpatterns = router.urls
