"""The email client: the only module that builds and sends mail (Postmark through django-anymail, or any backend).

The backend comes from EMAIL_BACKEND: anymail's Postmark backend when POSTMARK_API_TOKEN is set
(POSTMARK_API_URL lets a local fake stand in), the console locally, locmem in tests. Anymail-only
options (metadata, tracking) are plain attributes that other backends ignore.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from email.utils import formataddr

from anymail.exceptions import AnymailError
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection

logger = logging.getLogger(__name__)


class SendFailed(Exception):
    """The provider refused the mail or could not be reached."""


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str
    from_name: str
    unsubscribe_url: str
    # Comes back with every tracking event: how a provider's event finds its organization and log row.
    metadata: dict[str, str] = field(default_factory=dict)
    tag: str = ""


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str
    status: str  # "sent", or "queued" when the provider accepted it for later delivery


def mail_send(mail: OutgoingMail) -> SendResult:
    """Send one mail; raise SendFailed when it did not go out."""
    message = AnymailMessage(
        subject=mail.subject,
        body=mail.text,
        from_email=formataddr((mail.from_name, settings.POSTMARK_FROM_EMAIL)),
        to=[mail.to],
        headers={
            # RFC 8058 one-click unsubscribe: mailbox providers POST to the URL without asking the user.
            "List-Unsubscribe": f"<{mail.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        metadata=mail.metadata,
        tags=[mail.tag] if mail.tag else [],
        track_opens=True,
        track_clicks=True,
        connection=get_connection(),
    )
    message.attach_alternative(mail.html, "text/html")
    try:
        sent = message.send(fail_silently=False)
    except AnymailError as exc:
        raise SendFailed(_provider_error(exc)) from exc
    except OSError as exc:  # SMTP and socket errors of non-anymail backends
        raise SendFailed(f"{exc.__class__.__name__}: {exc}") from exc
    status = getattr(message, "anymail_status", None)
    if status is None or status.esp_response is None:
        # Not an anymail backend (console, locmem, SMTP): no provider id, and the backend raised if it failed.
        if not sent:
            raise SendFailed("The email backend sent nothing.")
        return SendResult(provider_message_id="", status="sent")
    statuses = status.status or set()
    if statuses & {"rejected", "invalid", "failed"}:
        raise SendFailed(f"The provider refused the mail ({', '.join(sorted(statuses))}).")
    return SendResult(provider_message_id=status.message_id or "", status="queued" if "queued" in statuses else "sent")


def _provider_error(exc: AnymailError) -> str:
    """Anymail's message, with the provider's own reason when it gave one (Postmark: `Message`)."""
    text = str(exc)
    try:
        reason = exc.response.json().get("Message") if exc.response is not None else None
    except (AttributeError, ValueError):
        reason = None
    return f"{text} ({reason})" if reason and reason not in text else text
