"""App config of outgoing webhooks: endpoints and the delivery outbox (tenant schema)."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
