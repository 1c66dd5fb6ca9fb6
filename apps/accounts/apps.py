"""App config of users, memberships and API keys."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from apps.accounts import schema, usage  # noqa: F401  (the OpenAPI auth scheme; the `seats` counter)
