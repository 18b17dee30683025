from rest_framework.routers import SimpleRouter

from therapies.api import views

router = SimpleRouter()
router.register("therapies", views.TherapyViewSet, basename="therapy")
router.register("drug-classes", views.DrugClassViewSet, basename="drugclass")

urlpatterns = router.urls
