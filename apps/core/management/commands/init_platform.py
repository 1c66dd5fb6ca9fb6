"""Idempotent platform set-up: migrate, public tenant and domain, default plans, optional superuser."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.accounts.models import User
from apps.billing.services import plans_sync
from apps.core.commands import PlatformCommand
from apps.core.extensions import trigram_costs_declare
from apps.tenants import provisioning
from apps.tenants.models import Domain, Organization


class Command(PlatformCommand):
    help = "Migrate the shared schema and every organization, create the public tenant, plans and superuser."

    def handle(self, *args, **options):
        started = time.perf_counter()
        verbosity = options["verbosity"]
        self.say = (lambda message: self.stdout.write(message)) if verbosity else (lambda message: None)
        self.say("Migrating the shared schema and every organization…")
        call_command("migrate_schemas", interactive=False, verbosity=max(0, verbosity - 1))
        # Again on every run: a restored dump or an extension update loses it (apps/core/extensions.py).
        trigram_costs_declare(connection)
        public, created = Organization.objects.get_or_create(
            schema_name=settings.PUBLIC_SCHEMA_NAME, defaults={"slug": "public", "name": "Platform"}
        )
        Domain.objects.get_or_create(domain=settings.BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
        self.say(f"Public host: {settings.BASE_DOMAIN}" + (" (created)" if created else ""))
        plans = plans_sync()
        self.say("Plans: " + ", ".join(plan.code for plan in plans))
        self.say("Preparing the tenant template schema…")
        provisioning.template_dump()
        self._superuser()
        self.say(self.style.SUCCESS(f"Platform ready in {time.perf_counter() - started:.1f} s."))

    def _superuser(self) -> None:
        email, password = settings.DJANGO_SUPERUSER_EMAIL, settings.DJANGO_SUPERUSER_PASSWORD
        if not email:
            return
        if not password:
            raise CommandError("DJANGO_SUPERUSER_EMAIL is set but DJANGO_SUPERUSER_PASSWORD is empty.")
        user = User.objects.filter(email=email.lower()).first()
        if user is None:
            User.objects.create_superuser(email=email, password=password)
            self.say(f"Superuser {email} created.")
        elif not user.is_superuser:
            raise CommandError(f"{email} exists and is not a superuser; refusing to promote it silently.")
