"""App config of the tenant dashboard: server-rendered pages and a live websocket (no models)."""

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "apps.dashboard"
    label = "dashboard"

    def ready(self) -> None:
        # Registers the event hook that pushes new conversations and messages to open dashboards.
        from apps.dashboard import realtime  # noqa: F401
