"""App config of conversations, the assistant's turn and the live chat (tenant schema)."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "apps.chat"
    label = "chat"

    def ready(self) -> None:
        from apps.chat import usage  # noqa: F401  (registers the AI replies counter)
