"""Organizations (one PostgreSQL schema each) and the host names that route to them."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

SLUG_RE = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,39}$")
# Names that would collide with hosts, schemas or routes of the platform itself.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "app",
        "admin",
        "public",
        "static",
        "media",
        "mail",
        "email",
        "ws",
        "chat",
        "embed",
        "webhook",
        "webhooks",
        "dashboard",
        "onboarding",
        "help",
        "support",
        "status",
        "extensions",
        "information-schema",
        "tenant-template",
        "billing",
        "docs",
        "healthz",
    }
)
ORIGIN_RE = re.compile(r"^https?://[a-z0-9.\-\[\]:]+$", re.IGNORECASE)
hex_color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Enter a color as #RRGGBB.")


def validate_slug(value: str) -> None:
    if not SLUG_RE.match(value or ""):
        raise ValidationError(
            "Use 2-40 lowercase letters, digits and single hyphens, starting with a letter.", code="invalid"
        )
    if value in RESERVED_SLUGS or value.startswith("pg-"):
        raise ValidationError(f"'{value}' is reserved.", code="reserved")


def validate_origin(value: str) -> None:
    if not ORIGIN_RE.match(value or "") or value.endswith("/"):
        raise ValidationError(f"'{value}' is not an origin like https://www.example.com.", code="invalid")


def origin_allowed(origin: str | None, *, allowed_origins: list[str], host: str | None = None) -> bool:
    """Whether a browser page at `origin` may use an organization's chat.

    An empty allow-list accepts any origin (the contract); the platform's own pages, served from the
    host being called (`host`, e.g. /chat/<slug>), always pass; otherwise an exact match.
    """
    if not allowed_origins:
        return True
    origin = (origin or "").rstrip("/").lower()
    if host and origin.split("://", 1)[-1] == host.lower():
        return True
    return bool(origin) and origin in {allowed.lower() for allowed in allowed_origins}


def schema_name_for(slug: str) -> str:
    # Slugs are DNS labels (no underscores), so '-' → '_' maps slugs to schema names one to one.
    return slug.replace("-", "_")


class Organization(TenantMixin):
    """An agency. Its schema_name is derived from its slug; its data lives in that schema."""

    slug = models.SlugField(max_length=40, unique=True, validators=[validate_slug])
    name = models.CharField(max_length=120)
    primary_color = models.CharField(max_length=7, default="#2563eb", validators=[hex_color_validator])
    logo_url = models.URLField(blank=True, default="")
    persona_name = models.CharField(max_length=60, default="Ava")
    persona_tone = models.CharField(max_length=60, default="friendly")
    persona_instructions = models.TextField(blank=True, default="")
    greeting = models.CharField(max_length=300, default="Hi! I can help you find a home. What are you looking for?")
    allowed_origins = ArrayField(
        models.CharField(max_length=200, validators=[validate_origin]), default=list, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Schemas are built by apps.tenants.provisioning (a fast template copy), not by save().
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    @property
    def is_public(self) -> bool:
        return self.schema_name == settings.PUBLIC_SCHEMA_NAME

    @property
    def host(self) -> str:
        return f"{self.slug}.{settings.BASE_DOMAIN}"

    def origin_allowed(self, origin: str | None, *, host: str | None = None) -> bool:
        return origin_allowed(origin, allowed_origins=self.allowed_origins, host=host)


class Domain(DomainMixin):
    """A host name routed to an organization (`<slug>.<BASE_DOMAIN>`, or the public host)."""

    def __str__(self) -> str:
        return self.domain
