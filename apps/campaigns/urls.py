"""REST routes of email follow-up: campaigns/, campaigns/<id>/steps/ and message-logs/."""

from rest_framework.routers import SimpleRouter

from apps.campaigns.apis import CampaignStepViewSet, CampaignViewSet, MessageLogViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register(r"campaigns/(?P<campaign_pk>\d+)/steps", CampaignStepViewSet, basename="campaign-step")
router.register("message-logs", MessageLogViewSet, basename="message-log")

urlpatterns = router.urls
