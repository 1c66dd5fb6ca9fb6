"""Create an API key for an organization and print it once (only its hash is stored)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from apps.accounts.services import api_key_create
from apps.core.commands import PlatformCommand
from apps.core.errors import ApplicationError
from apps.tenants.selectors import organization_get


class Command(PlatformCommand):
    help = "Create an API key for <slug>; the key is printed on the last line, once."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)

    def handle(self, *args, **options):
        with schema_context(get_public_schema_name()):
            self._create(options)

    def _create(self, options) -> None:
        organization = organization_get(slug=options["slug"])
        if organization is None:
            raise CommandError(f"No organization with slug '{options['slug']}'.")
        try:
            api_key, key = api_key_create(organization=organization, name=options["name"])
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(
            f"API key '{api_key.name}' (prefix {api_key.prefix}) for {organization.slug}. "
            "Store it now: it is not shown again."
        )
        self.stdout.write(key)
