"""Fixtures of the email tests: mail settings, leads and listings in an organization, the fake Postmark API."""

from __future__ import annotations

import base64

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tests.fakes.postmark_server import FakePostmark

WEBHOOK_SECRET = "postmark:tracking-secret"
LISTINGS = [
    {"title": "Sunny house with garden", "property_type": "house", "price": 420_000, "bedrooms": 3, "city": "Austin"},
    {"title": "Loft near the river", "property_type": "apartment", "price": 310_000, "bedrooms": 1, "city": "Austin"},
    {"title": "Family house in Dallas", "property_type": "house", "price": 480_000, "bedrooms": 4, "city": "Dallas"},
    {"title": "Mansion on the hill", "property_type": "house", "price": 2_500_000, "bedrooms": 7, "city": "Austin"},
]


@pytest.fixture(autouse=True)
def email_settings(settings):
    """locmem mail, a known tracking secret, public links on http://localhost:8000, quick blasts."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    settings.POSTMARK_FROM_EMAIL = "assistant@platform.test"
    settings.BASE_DOMAIN = "localhost"
    settings.PUBLIC_URL_SCHEME = "http"
    settings.PORT = 8000
    settings.EMAIL_BLAST_BATCH_SIZE = 2
    settings.EMAIL_BLAST_RATE_PER_MINUTE = 60_000
    mail.outbox = []
    return settings


@pytest.fixture
def in_org(org):
    with tenant_context(org):
        yield org


def add_listings(listings=LISTINGS) -> list:
    """Listings in the current organization (call inside its tenant context)."""
    from apps.properties.tests.factories import PropertyFactory

    return [PropertyFactory(**listing) for listing in listings]


def new_lead(email: str = "ana@example.com", name: str = "Ana Diaz", **attributes):
    """A lead captured the way the API captures one (events and hooks included), in the current organization."""
    from apps.leads.services import lead_capture

    lead, _ = lead_capture(name=name, email=email, source="api", attributes=attributes)
    return lead


def basic_auth(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.fixture
def fake_postmark(settings):
    """The fake Postmark API, and anymail's Postmark backend pointed at it."""
    server = FakePostmark().start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_SERVER_TOKEN": server.token,
        "POSTMARK_API_URL": server.base_url,
        "REQUESTS_TIMEOUT": 5,
    }
    yield server
    server.stop()
