"""Public-host routes of email follow-up (included at the root by config/urls_public.py)."""

from django.urls import path

from apps.campaigns.views import tracking_webhook, unsubscribe

urlpatterns = [
    # The path anymail documents for Postmark, so the provider's settings read as anymail's docs say.
    path("anymail/postmark/tracking/", tracking_webhook, name="email-tracking-webhook"),
    path("unsubscribe/<str:token>/", unsubscribe, name="email-unsubscribe"),
]
