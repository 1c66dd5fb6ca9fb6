"""Signed one-click unsubscribe tokens: which organization, which address, from which mail."""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing

from apps.core.text import text_storable

SALT = "campaigns.unsubscribe"


@dataclass(frozen=True)
class UnsubscribeRequest:
    organization_id: int | None
    schema: str
    email: str
    message_log_id: int | None


def unsubscribe_token_make(*, organization_id: int, schema: str, email: str, message_log_id: int | None) -> str:
    # No expiry: an unsubscribe link must keep working as long as the mail sits in an inbox. The
    # organization's id with its schema: a later organization reusing a deleted one's slug is another one.
    payload = {"o": organization_id, "s": schema, "e": email, "m": message_log_id}
    return signing.dumps(payload, salt=SALT, compress=True)


def unsubscribe_token_read(token: str) -> UnsubscribeRequest | None:
    """The request a token carries, or None when it was not signed by this platform (forged, altered)."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("e"), str):
        return None
    if not (text_storable(data["s"]) and text_storable(data["e"])):  # signed by us, so never: but not looked up
        return None
    organization_id, message_log_id = data.get("o"), data.get("m")
    return UnsubscribeRequest(
        organization_id=organization_id if isinstance(organization_id, int) else None,
        schema=data["s"],
        email=data["e"],
        message_log_id=message_log_id if isinstance(message_log_id, int) else None,
    )
