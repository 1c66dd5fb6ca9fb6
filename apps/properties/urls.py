"""REST routes of listings: properties/, properties/<id>/, properties/search/, properties/import/."""

from rest_framework.routers import SimpleRouter

from apps.properties.apis import PropertyViewSet

router = SimpleRouter()
router.register("properties", PropertyViewSet, basename="property")

urlpatterns = router.urls
