"""App config of the Meta routing table: which organization owns a page or Instagram account id (public schema)."""

from django.apps import AppConfig


class SocialRoutingConfig(AppConfig):
    name = "apps.socialrouting"
    label = "socialrouting"
