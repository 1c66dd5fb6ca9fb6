"""App config of email follow-up: campaigns, sequences, blasts, tracking and unsubscribe (tenant schema)."""

from django.apps import AppConfig


def _email_event_hook(event) -> None:
    # Imported at call time: services pull in leads, chat and billing, which must not load while the
    # app registry is still being populated.
    from apps.campaigns.services import email_event_hook

    email_event_hook(event)


def _tracking_received(sender, event, esp_name, **kwargs) -> None:
    import logging

    from apps.campaigns.services import message_tracking_apply

    outcome = message_tracking_apply(event=event)
    logging.getLogger("apps.campaigns").info("%s tracking %s: %s", esp_name, event.event_type, outcome)


class CampaignsConfig(AppConfig):
    name = "apps.campaigns"
    label = "campaigns"
    verbose_name = "Email campaigns"

    def ready(self) -> None:
        from anymail.signals import tracking

        from apps.campaigns import usage  # noqa: F401  (registers the `campaigns` usage counter)
        from apps.events.services import event_hook

        # New leads are enrolled, and leads leave their sequences, in the transaction of the event.
        event_hook(_email_event_hook)
        # The provider's tracking webhook (apps.campaigns.views) hands each event over through anymail's signal.
        tracking.connect(_tracking_received, dispatch_uid="apps.campaigns.tracking")
