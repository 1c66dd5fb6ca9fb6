"""REST routes of webhooks: webhook-endpoints/ and webhook-deliveries/."""

from rest_framework.routers import SimpleRouter

from apps.webhooks.apis import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
