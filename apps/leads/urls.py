"""REST routes of leads: leads/ and leads/<id>/."""

from rest_framework.routers import SimpleRouter

from apps.leads.apis import LeadViewSet

router = SimpleRouter()
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
