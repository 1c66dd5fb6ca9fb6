"""App config of the event log (tenant schema)."""

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
