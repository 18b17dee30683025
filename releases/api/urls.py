from rest_framework.routers import SimpleRouter

from releases.api import views

router = SimpleRouter()
router.register("releases", views.ReleaseViewSet, basename="release")

urlpatterns = router.urls
