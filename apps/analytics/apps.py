"""App config of analytics: read-only summaries over a tenant's own data (no models)."""

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    label = "analytics"
