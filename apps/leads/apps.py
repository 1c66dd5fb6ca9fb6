"""App config of leads (tenant schema)."""

from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "apps.leads"
    label = "leads"
