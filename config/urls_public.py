"""URLs of the public host (bare BASE_DOMAIN and any host that is not a tenant's)."""

from django.contrib import admin
from django.urls import include, path, re_path

from apps.billing.views import stripe_webhook
from apps.chat.ask import chat_ask
from apps.core.views import api_not_found, api_on_public_host, healthz, home

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("api/chat/ask", chat_ask, name="chat-ask"),
    # The organization API lives on each organization's host; here any call is unauthenticated.
    re_path(r"^api/v1/", api_on_public_host, name="api-on-public-host"),
    path("admin/", admin.site.urls),
    path("webhook/stripe/", stripe_webhook, name="stripe-webhook"),
    path("webhook/", include("apps.social.webhook_urls")),
    path("", include("apps.chat.page_urls")),
    # Email: the provider's tracking webhook and the one-click unsubscribe links.
    path("", include("apps.campaigns.public_urls")),
    path("", include("apps.onboarding.urls")),
    # Last: an /api/ path nothing above claims answers the API's JSON 404 (under DEBUG too).
    re_path(r"^api/", api_not_found),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
