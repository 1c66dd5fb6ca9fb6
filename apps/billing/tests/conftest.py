"""Fixtures of the billing tests: a fake Stripe API on 127.0.0.1 driven by the real SDK, and signed webhooks."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.test import Client

from tests.fakes.local_server import LocalServer

WEBHOOK_SECRET = "whsec_test_billing_secret"
PRICES = {"starter": "price_starter_test", "pro": "price_pro_test", "agency": "price_agency_test"}


@dataclass
class StripeRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class FakeStripe(LocalServer):
    """A Stripe API stand-in: records every request and answers the few endpoints billing calls."""

    def __init__(self):
        self.requests: list[StripeRequest] = []
        self.subscriptions: dict[str, dict] = {}
        # When set, every call answers this status with a Stripe error body.
        self.fail_with: int | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._serve(handler)

    @property
    def base_url(self) -> str:
        return self.origin

    def calls(self, method: str, path: str) -> list[StripeRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    def set_subscription(
        self,
        subscription_id: str,
        *,
        status: str,
        plan: str,
        customer: str = "cus_test",
        organization: str | None = "acme",
        period_end: int | None = None,
        trial_end: int | None = None,
        created: int | None = None,
    ) -> dict:
        """Store the subscription as Stripe holds it now (what a retrieve answers); return the object."""
        now = int(time.time())
        subscription = {
            "id": subscription_id,
            "object": "subscription",
            "status": status,
            "customer": customer,
            "created": created or now,
            "metadata": {"organization": organization} if organization else {},
            "trial_end": trial_end,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": f"si_{subscription_id}",
                        "object": "subscription_item",
                        "price": {"id": PRICES.get(plan, plan), "object": "price"},
                        "current_period_start": now,
                        "current_period_end": period_end or now + 30 * 86400,
                    }
                ],
            },
        }
        self.subscriptions[subscription_id] = subscription
        return json.loads(json.dumps(subscription))

    def answer(self, request: StripeRequest) -> tuple[int, dict]:
        with self._lock:
            self.requests.append(request)
        if self.fail_with:
            return self.fail_with, {"error": {"type": "invalid_request_error", "message": "Fake Stripe says no."}}
        form = request.form
        if request.method == "POST" and request.path == "/v1/customers":
            return 200, {"id": self.next_id("cus"), "object": "customer", "name": form.get("name")}
        if request.method == "POST" and request.path == "/v1/checkout/sessions":
            session_id = self.next_id("cs_test")
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "mode": form.get("mode"),
                "customer": form.get("customer"),
                "client_reference_id": form.get("client_reference_id"),
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            }
        if request.method == "POST" and request.path == "/v1/billing_portal/sessions":
            session_id = self.next_id("bps")
            return 200, {
                "id": session_id,
                "object": "billing_portal.session",
                "customer": form.get("customer"),
                "return_url": form.get("return_url"),
                "url": f"https://billing.stripe.test/p/session/{session_id}",
            }
        if request.method == "GET" and request.path.startswith("/v1/subscriptions/"):
            subscription = self.subscriptions.get(request.path.rsplit("/", 1)[1])
            if subscription is not None:
                return 200, subscription
            return 404, {"error": {"type": "invalid_request_error", "message": "No such subscription"}}
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized {request.path}"}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeStripe

    def _handle(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        url = urlsplit(self.path)
        # Form bodies keep Stripe's flat keys (line_items[0][price]); tests read them as such.
        form = {key: values[-1] for key, values in parse_qs(body or url.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.fake.answer(StripeRequest(self.command, url.path, headers, form))
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_stripe():
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def stripe_settings(settings, fake_stripe, db):
    """Billing configured against the fake: keys, webhook secret, and plans carrying Stripe price ids."""
    from apps.billing.services import plans_sync

    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_API_BASE = fake_stripe.base_url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_PRICE_STARTER = PRICES["starter"]
    settings.STRIPE_PRICE_PRO = PRICES["pro"]
    settings.STRIPE_PRICE_AGENCY = PRICES["agency"]
    plans_sync()  # rolled back with the test
    return settings


_event_ids = itertools.count(1)


def stripe_event(type_: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    """A Stripe event as Stripe sends it to a webhook endpoint."""
    return {
        "id": event_id or f"evt_test_{next(_event_ids)}_{time.monotonic_ns()}",
        "object": "event",
        "api_version": stripe.api_version,
        "created": created or int(time.time()),
        "livemode": False,
        "type": type_,
        "data": {"object": obj},
    }


def checkout_completed(*, slug: str, customer: str, subscription: str) -> dict:
    return {
        "id": f"cs_test_{slug}",
        "object": "checkout.session",
        "mode": "subscription",
        "client_reference_id": slug,
        "customer": customer,
        "subscription": subscription,
        "payment_status": "paid",
        "metadata": {"organization": slug},
    }


def invoice(*, subscription: str, customer: str, status: str) -> dict:
    return {
        "id": f"in_{subscription}_{status}",
        "object": "invoice",
        "customer": customer,
        "status": status,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": subscription, "metadata": {}},
        },
    }


class StripeWebhookClient:
    """Posts events to /webhook/stripe/ on the public host, signed the way Stripe signs them."""

    def __init__(self, host: str):
        self.client = Client(HTTP_HOST=host)

    def post(self, event: dict | str, *, secret: str = WEBHOOK_SECRET, signature: str | None = None, timestamp=None):
        payload = event if isinstance(event, str) else json.dumps(event)
        if signature is None:
            signature = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
        headers = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
        return self.client.post("/webhook/stripe/", payload, content_type="application/json", **headers)


@pytest.fixture
def stripe_webhook(settings):
    return StripeWebhookClient(settings.BASE_DOMAIN)
