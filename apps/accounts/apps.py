"""App config of users, memberships and API keys."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from apps.accounts import usage  # noqa: F401  (registers the `seats` usage counter)
