"""App config of listings and their embeddings (tenant schema)."""

from django.apps import AppConfig


class PropertiesConfig(AppConfig):
    name = "apps.properties"
    label = "properties"
