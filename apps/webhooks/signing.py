"""Standard Webhooks signing: `whsec_` secrets and the webhook-id / -timestamp / -signature headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as _secrets
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret: the base64 after the optional `whsec_` prefix (as the spec's libraries read it)."""
    if secret.startswith(SECRET_PREFIX):
        secret = secret[len(SECRET_PREFIX) :]
    return base64.b64decode(secret)


def signature(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(*, webhook_id: str, timestamp: int, body: bytes, secrets: Iterable[str]) -> dict[str, str]:
    """The three Standard Webhooks headers; one `v1,…` signature per secret, space separated."""
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp)}
    signatures = [signature(secret=s, webhook_id=webhook_id, timestamp=timestamp, body=body) for s in secrets]
    if signatures:
        headers["webhook-signature"] = " ".join(signatures)
    return headers
