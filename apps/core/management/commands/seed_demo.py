"""Idempotent demo data: the `demo` organization with its brand, persona and owner."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import get_public_schema_name, schema_context

from apps.tenants.selectors import organization_get
from apps.tenants.services import organization_create, organization_update

DEMO_SLUG = "demo"
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


class Command(BaseCommand):
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
                **DEMO_PROFILE,
            )
            self.stdout.write(f"Created organization {DEMO_SLUG}.")
        else:
            organization = organization_update(organization=organization, **DEMO_PROFILE)
            self.stdout.write(f"Organization {DEMO_SLUG} exists; brand and persona refreshed.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready at http://{organization.host}:{settings.PORT}/api/docs/ (owner {DEMO_OWNER_EMAIL})"
            )
        )
