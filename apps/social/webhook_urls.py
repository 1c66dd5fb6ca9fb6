"""Public-host routes of Meta's webhooks (included under /webhook/ by config/urls_public.py)."""

from django.urls import re_path

from apps.social.views import meta_webhook

urlpatterns = [
    re_path(r"^(?P<platform>facebook|instagram)/$", meta_webhook, name="meta-webhook"),
]
