"""Idempotent demo data: the `demo` organization with brand, persona, owner, sample listings and welcome sequence."""

from __future__ import annotations

import json

from django.conf import settings
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from apps.core.commands import PlatformCommand
from apps.tenants.selectors import organization_get
from apps.tenants.services import organization_create, organization_update

DEMO_SLUG = "demo"
# The demo runs on Pro so that it shows what a paying agency gets (more listings, channels, seats).
DEMO_PLAN = "pro"
DEMO_OWNER_EMAIL = "owner@demo.test"
# A development-only password, printed by `make run`; seed_demo is not for production data.
DEMO_OWNER_PASSWORD = "demo-owner-password"
DEMO_PROFILE = {
    "name": "Demo Realty",
    "primary_color": "#0f766e",
    "logo_url": "https://images.example.com/demo-realty/logo.png",
    "persona_name": "Ava",
    "persona_tone": "warm and professional",
    "persona_instructions": (
        "You are the assistant of Demo Realty. Recommend only listings from our catalog, give "
        "prices and neighborhoods, and offer a viewing. Ask for a name and an email or phone "
        "number once the visitor shows interest."
    ),
    "greeting": "Hi, I'm Ava from Demo Realty 👋 Looking to buy or rent? Tell me what you have in mind.",
}


class Command(PlatformCommand):
    help = "Create or refresh the `demo` organization (brand, persona, owner)."

    def handle(self, *args, **options):
        # Organizations live in the public schema; say so rather than rely on the connection's state.
        with schema_context(get_public_schema_name()):
            self._seed()

    def _seed(self) -> None:
        organization = organization_get(slug=DEMO_SLUG)
        if organization is None:
            organization = organization_create(
                slug=DEMO_SLUG,
                owner_email=DEMO_OWNER_EMAIL,
                owner_password=DEMO_OWNER_PASSWORD,
                plan=DEMO_PLAN,
                **DEMO_PROFILE,
            )
            self.stdout.write(f"Created organization {DEMO_SLUG}.")
        else:
            organization = organization_update(organization=organization, **DEMO_PROFILE)
            self.stdout.write(f"Organization {DEMO_SLUG} exists; brand and persona refreshed.")
        self._seed_listings(organization)
        self._seed_welcome_sequence(organization)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready at http://{organization.host}:{settings.PORT}/api/docs/ (owner {DEMO_OWNER_EMAIL})"
            )
        )

    def _seed_listings(self, organization) -> None:
        """Upsert the sample catalog by external_id (so a re-run updates, never duplicates) and embed it."""
        from apps.properties.embeddings import EmbeddingError
        from apps.properties.services import SAMPLE_CATALOG, property_embeddings_sync, property_import

        rows = json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8"))
        with tenant_context(organization):
            result = property_import(rows=rows)
            try:
                # seed_demo runs before the server (and its in-process worker) starts: embed now.
                embedded = property_embeddings_sync(property_ids=result.property_ids)
            except EmbeddingError as exc:
                embedded = 0
                self.stderr.write(f"Listings not embedded ({exc}); run `manage.py reindex_properties demo` later.")
        self.stdout.write(f"Sample listings: {result.created} created, {result.updated} updated, {embedded} embedded.")
        for error in result.errors:
            self.stderr.write(f"  catalog row {error['row']}: {error['attr'] or ''} {error['detail']}")

    def _seed_welcome_sequence(self, organization) -> None:
        """The welcome sequence (days 0, 3, 7, 14), once: an edited or deleted one is left as the admin left it."""
        from apps.campaigns.services import welcome_sequence_ensure

        with tenant_context(organization):
            created = welcome_sequence_ensure(organization=organization)
        self.stdout.write("Welcome sequence: created." if created else "Welcome sequence: already set up.")
