"""Create an organization with its schema, domain, owner membership and starter trial."""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from apps.core.commands import PlatformCommand
from apps.core.errors import ApplicationError
from apps.tenants.services import organization_create


class Command(PlatformCommand):
    help = "Create an organization: schema, domain <slug>.<BASE_DOMAIN>, owner (created if new), trial."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--plan", default="starter")

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            organization = organization_create(
                slug=options["slug"], name=options["name"], owner_email=options["owner_email"], plan=options["plan"]
            )
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {organization.slug} (schema {organization.schema_name}, host {organization.host}) "
                f"in {elapsed:.2f} s."
            )
        )
