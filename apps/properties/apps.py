"""App config of listings and their embeddings (tenant schema)."""

from django.apps import AppConfig


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"

    def ready(self) -> None:
        from apps.properties import (
            usage,  # noqa: F401  (registers the `listings` usage counter)
            vector_params,
        )

        vector_params.register()
