"""Chat fixtures: committed organizations with a few listings, websocket helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from channels.testing import WebsocketCommunicator
from django_tenants.utils import schema_context

from apps.tenants.models import Organization

LISTINGS = [
    {
        "title": "Sunny craftsman with pool in Travis Heights",
        "description": "Three bedrooms, a saltwater pool and a shaded deck near South Congress.",
        "property_type": "house",
        "listing_type": "sale",
        "price": Decimal("485000"),
        "bedrooms": 3,
        "city": "Austin",
        "neighborhood": "Travis Heights",
        "features": ["pool", "garden"],
        "url": "https://acme.test/l/1",
        "images": ["https://images.example.com/1.jpg"],
    },
    {
        "title": "Downtown loft with skyline views",
        "description": "Open-plan one bedroom loft, walk to everything, gym in the building.",
        "property_type": "apartment",
        "listing_type": "rent",
        "price": Decimal("2400"),
        "bedrooms": 1,
        "city": "Austin",
        "neighborhood": "Downtown",
        "features": ["gym", "elevator"],
        "url": "https://acme.test/l/2",
        "images": [],
    },
    {
        "title": "Family home with big garden in Cherry Creek",
        "description": "Four bedrooms, a large garden and a two-car garage in a quiet street.",
        "property_type": "house",
        "listing_type": "sale",
        "price": Decimal("910000"),
        "bedrooms": 4,
        "city": "Denver",
        "neighborhood": "Cherry Creek",
        "features": ["garden", "garage"],
        "url": "https://acme.test/l/3",
        "images": [],
    },
]


def add_listings(organization, listings=LISTINGS) -> list[int]:
    from apps.properties.models import Property

    with schema_context(organization.schema_name):
        return [Property.objects.create(**listing).pk for listing in listings]


@pytest.fixture
def chat_orgs(transactional_db):
    """Two committed organizations: `acme` with listings, `globex` with a listing of its own."""
    from conftest import make_organization

    acme = make_organization("chat-acme", name="Acme Realty")
    globex = make_organization("chat-globex", name="Globex Homes")
    acme_ids = add_listings(acme)
    globex_ids = add_listings(
        globex,
        [{**LISTINGS[0], "title": "Globex secret villa with pool", "url": "https://globex.test/l/9"}],
    )
    yield {"acme": acme, "globex": globex, "acme_ids": acme_ids, "globex_ids": globex_ids}
    for organization in Organization.objects.filter(slug__in=["chat-acme", "chat-globex"]):
        organization.delete(force_drop=True)


@pytest.fixture(autouse=True)
def _offline_model(settings):
    """Every chat test starts on the offline responder unless it points the client at a fake server."""
    from apps.chat.llm import chat_model_reset

    settings.OPENAI_API_KEY = ""
    chat_model_reset()
    yield
    chat_model_reset()


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    from django.core.cache import cache

    cache.clear()


async def connect(slug: str, *, token: str | None = None, origin: str | None = None):
    from asgi import application

    path = f"/ws/chat/{slug}/" + (f"?conversation={token}" if token else "")
    headers = [(b"origin", origin.encode())] if origin else []
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def ask(communicator, text: str, client_id: str | None = None, timeout: float = 10) -> list[dict]:
    """Send a message and collect frames until `done` or `error`."""
    frame = {"type": "message", "text": text}
    if client_id:
        frame["client_id"] = client_id
    await communicator.send_json_to(frame)
    frames = []
    while True:
        received = await communicator.receive_json_from(timeout=timeout)
        frames.append(received)
        if received["type"] in ("done", "error"):
            return frames
