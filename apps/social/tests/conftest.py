"""Fixtures of the Meta channel tests: the fake Graph API, signed webhook posts, connected accounts."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tests.fakes.graph_server import FakeGraph

APP_SECRET = "app-secret"
VERIFY_TOKEN = "verify-me"
# A fixed Fernet key: the tests read ciphertexts back.
ENCRYPTION_KEY = "kQ5q0s7n8Jm0bWm6k1vT1YcYgQyq2b8mJ3o0V4rYw8E="
_mids = itertools.count(1)


@pytest.fixture(autouse=True)
def social_settings(settings):
    """Signed webhooks with APP_SECRET, an encryption key, and the offline chat model."""
    from apps.chat.llm import chat_model_reset

    settings.FACEBOOK_APP_ID = "app-1"
    settings.FACEBOOK_APP_SECRET = APP_SECRET
    settings.FACEBOOK_VERIFY_TOKEN = VERIFY_TOKEN
    settings.FIELD_ENCRYPTION_KEY = ENCRYPTION_KEY
    settings.FACEBOOK_HUMAN_AGENT_TAG = False
    settings.OPENAI_API_KEY = ""
    chat_model_reset()
    yield settings
    chat_model_reset()


@pytest.fixture
def graph(settings):
    """The fake Graph API, reached by the real client through FACEBOOK_GRAPH_URL."""
    with FakeGraph(app_id="app-1", app_secret=APP_SECRET) as fake:
        settings.FACEBOOK_GRAPH_URL = fake.base_url
        yield fake


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def message_item(
    *,
    page_id: str,
    sender: str,
    text: str = "Hi! Any 3-bedroom house in Austin?",
    mid: str | None = None,
    at: float | None = None,
    echo: bool = False,
) -> dict:
    message = {"mid": mid or f"m_{next(_mids)}_{time.time_ns()}", "text": text}
    if echo:
        message["is_echo"] = True
    sender_id, recipient_id = (page_id, sender) if echo else (sender, page_id)
    return {
        "sender": {"id": sender_id},
        "recipient": {"id": recipient_id},
        "timestamp": int((at if at is not None else time.time()) * 1000),
        "message": message,
    }


def webhook_payload(*items: dict, page_id: str, object_: str = "page", key: str = "messaging") -> dict:
    return {"object": object_, "entry": [{"id": page_id, "time": int(time.time() * 1000), key: list(items)}]}


class MetaWebhook:
    """Posts to the public host the way Meta does: the raw JSON body, signed."""

    def __init__(self):
        from django.conf import settings

        self.client = Client(HTTP_HOST=settings.BASE_DOMAIN)

    def post(self, payload: dict | bytes, *, platform: str = "facebook", signature: str | None = "sign"):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {}
        if signature == "sign":
            headers["HTTP_X_HUB_SIGNATURE_256"] = sign(body)
        elif signature is not None:
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature
        return self.client.post(f"/webhook/{platform}/", data=body, content_type="application/json", **headers)

    def get(self, params: dict, *, platform: str = "facebook"):
        return self.client.get(f"/webhook/{platform}/", params)


@pytest.fixture
def meta_webhook():
    return MetaWebhook()


def connect(organization, graph: FakeGraph, *, page_id: str = "1001", platform: str = "facebook", **page):
    """Connect a page (or its Instagram account) of the fake Graph API through the real service."""
    from apps.social.services import social_account_connect

    fake_page = graph.pages.get(page_id) or graph.add_page(page_id, **page)
    with tenant_context(organization):
        account, _ = social_account_connect(
            organization=organization, platform=platform, page_id=page_id, access_token=fake_page.token
        )
    return account
