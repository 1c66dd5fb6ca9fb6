"""The one module that talks to Stripe: a configured StripeClient and the few calls billing makes."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings

from apps.core.text import json_storable

logger = logging.getLogger(__name__)

# Stripe's own recommendation is 80 s; a request thread must not hang that long behind an API call.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 20
# The SDK retries connection errors, 409/429 and 5xx answers with an idempotency key it adds itself.
MAX_NETWORK_RETRIES = 2
# Seconds a webhook signature stays valid (Stripe's documented default).
WEBHOOK_TOLERANCE_SECONDS = 300


class StripeUnavailable(Exception):
    """Billing cannot use Stripe right now; the message says why in words an owner understands."""


class StripeNotConfigured(StripeUnavailable):
    """STRIPE_SECRET_KEY is not set: the platform runs without paid plans."""


class StripeCallFailed(StripeUnavailable):
    """Stripe refused or did not answer a call (network, auth, bad parameters)."""


class StripeSignatureInvalid(Exception):
    """A webhook whose Stripe-Signature (or body) does not check out."""


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@lru_cache(maxsize=4)
def _client_for(secret_key: str, api_base: str) -> stripe.StripeClient:
    # Cached per configuration, so that tests changing the settings get a client of their own.
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS)),
    )


def _client() -> stripe.StripeClient:
    if not is_configured():
        raise StripeNotConfigured("Billing is not set up on this platform (STRIPE_SECRET_KEY is empty).")
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE or "")


def _call(what: str, func, *args, **kwargs) -> dict[str, Any]:
    try:
        return func(*args, **kwargs).to_dict()
    except stripe.StripeError as exc:
        logger.warning("stripe: %s failed: %s", what, exc)
        raise StripeCallFailed(f"Stripe could not {what}; try again in a minute.") from exc


def customer_create(*, name: str, email: str, metadata: dict[str, str]) -> dict[str, Any]:
    client = _client()
    params = {"name": name, "metadata": metadata}
    if email:
        params["email"] = email
    return _call("create the customer", client.v1.customers.create, params=params)


def checkout_session_create(
    *,
    customer: str,
    price: str,
    client_reference_id: str,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
) -> dict[str, Any]:
    client = _client()
    params = {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": client_reference_id,
        "line_items": [{"price": price, "quantity": 1}],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": metadata,
        # The subscription carries the organization too, so its own events find it even when they
        # arrive before checkout.session.completed.
        "subscription_data": {"metadata": metadata},
    }
    return _call("start the checkout", client.v1.checkout.sessions.create, params=params)


def portal_session_create(*, customer: str, return_url: str) -> dict[str, Any]:
    client = _client()
    params = {"customer": customer, "return_url": return_url}
    return _call("open the billing portal", client.v1.billing_portal.sessions.create, params=params)


def subscription_retrieve(subscription_id: str) -> dict[str, Any]:
    client = _client()
    return _call("read the subscription", client.v1.subscriptions.retrieve, subscription_id)


def webhook_event_construct(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Verify the Stripe-Signature of a webhook body and return the event as a plain dict."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        # Nothing can be verified; refuse rather than trust an unsigned body.
        raise StripeSignatureInvalid("STRIPE_WEBHOOK_SECRET is not set.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as exc:
        raise StripeSignatureInvalid("The Stripe-Signature header does not match the body.") from exc
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as exc:  # a JSON array: AttributeError
        raise StripeSignatureInvalid("The body is not a Stripe event.") from exc
    data = event.to_dict()
    if not _event_shaped(data):
        raise StripeSignatureInvalid("The body is not a Stripe event.")
    return data


def _event_shaped(data: dict[str, Any]) -> bool:
    """What the processing relies on. Stripe signs only well-formed events; a test's or a leaked secret's
    body is refused here, not in the middle of the processing's transaction (as a 500)."""
    event_id, event_type, created = data.get("id"), data.get("type"), data.get("created")
    if not (isinstance(event_id, str) and isinstance(event_type, str) and 0 < len(event_id) <= 255):
        return False
    if len(event_type) > 100 or not json_storable(data):
        return False
    if created is not None and not (isinstance(created, int) and 0 <= created < 2**33):
        return False
    body = data.get("data")
    return body is None or (isinstance(body, dict) and isinstance(body.get("object") or {}, dict))
