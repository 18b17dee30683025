from rest_framework.routers import SimpleRouter

from references.api import views

router = SimpleRouter()
router.register("references", views.ReferenceViewSet, basename="reference")

urlpatterns = router.urls
