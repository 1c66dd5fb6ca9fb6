"""App config of outgoing webhooks: endpoints and the delivery outbox (tenant schema)."""

from django.apps import AppConfig


def _deliveries_for_event(event) -> None:
    # Imported at call time: services pull in billing and the DRF error handler, which must not
    # load while the app registry is still being populated.
    from apps.webhooks.services import webhook_deliveries_create_for_event

    webhook_deliveries_create_for_event(event)


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from apps.events.services import event_hook
        from apps.webhooks import checks, usage  # noqa: F401  (registers the checks and the usage counter)

        # Every recorded event writes its outbox rows in the same transaction.
        event_hook(_deliveries_for_event)
