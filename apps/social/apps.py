"""App config of Facebook Messenger and Instagram Direct: connected accounts, threads, replies (tenant schema)."""

from django.apps import AppConfig


def _outbound_for_event(event) -> None:
    # Imported at call time: services pull in chat, leads and billing, which must not load while the
    # app registry is still being populated.
    from apps.social.services import outbound_for_event

    outbound_for_event(event)


class SocialConfig(AppConfig):
    name = "apps.social"
    label = "social"

    def ready(self) -> None:
        from apps.events.services import event_hook
        from apps.social import checks, usage  # noqa: F401  (registers the deploy check and the channels counter)

        # An agent's reply to a Messenger/Instagram conversation goes out through the Send API.
        event_hook(_outbound_for_event)
