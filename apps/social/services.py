"""Writes of the Meta channels: connect and disconnect, webhook intake, the inbound job, replies out, backfill.

Flow of a message: the signed webhook (public host) stores each item as an `InboundEvent` in the
public schema and queues `social_event_process` in the owning organization's schema; the job
claims the message id once (`SeenMessage.mid` is unique), finds the thread, conversation and lead,
runs the chat turn and stores the reply as an `OutboundMessage`, which `social_outbound_send`
delivers through the Send API in pieces the platform accepts. Agents' replies from the API take
the same way out (an event hook). Each step is idempotent, so retries and the sweep are safe.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.billing.models import Entitlement
from apps.billing.services import entitlement_check
from apps.chat.models import Conversation, ConversationStatus, Role
from apps.chat.services import (
    conversation_for_visitor,
    conversation_hand_over,
    conversation_history_import,
    conversation_lead_link,
    conversation_visitor_message_store,
)
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.jobs import SCHEMA_OPTION, enqueue_on_commit
from apps.events.models import Event, EventType
from apps.leads.services import lead_capture
from apps.social import crypto
from apps.social.graph import GraphClient, GraphError, graph_client
from apps.social.models import (
    AccountStatus,
    Direction,
    DisconnectReason,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    SeenMessage,
    SeenStatus,
    SocialAccount,
    SocialThread,
)
from apps.social.selectors import social_thread_for_conversation
from apps.social.splitting import split_message
from apps.socialrouting.models import EventKind, InboundEvent, Platform
from apps.socialrouting.selectors import route_owner, routes_resolve
from apps.socialrouting.services import TAKEN_DETAIL, route_claim, route_release
from apps.tenants.models import Organization

logger = logging.getLogger(__name__)

# Meta's standard messaging window, and the human-agent tag's (for people, never for the assistant).
RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
# A claim older than this belongs to a job that died (a killed worker): another job may take over.
# Longer than any actor's time limit (apps/social/actors.py).
CLAIM_TIMEOUT = timedelta(minutes=5)
# Stored events not processed, and replies not sent, this long after they were queued lost their
# job (the in-memory broker restarted): the sweep queues them again. Older events are given up.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_GIVE_UP = timedelta(days=2)
# Handled raw events are kept this long (for support and audits), then deleted by the sweep.
EVENT_RETENTION = timedelta(days=30)
SWEEP_BATCH = 500
OUTBOUND_MAX_ATTEMPTS = 12
# Backfill: pages of conversations, the latest messages of each, and a cap per run.
SYNC_PAGE_SIZE = 25
SYNC_MESSAGES_PER_CONVERSATION = 25
SYNC_MAX_CONVERSATIONS = 200

OBJECT_PLATFORM = {"page": Platform.FACEBOOK, "instagram": Platform.INSTAGRAM}
CONVERSATIONS_PLATFORM = {Platform.FACEBOOK: "messenger", Platform.INSTAGRAM: "instagram"}
PAGE_ID_RE = re.compile(r"^[0-9]{1,64}$")
POLITE_ERRORS = ("plan_limit", "unavailable")  # chat's error frames whose detail a visitor may read


class SocialErrorCode(StrEnum):
    # Meta refused the access token or OAuth code (expired, revoked, wrong page).
    TOKEN_INVALID = "token_invalid"
    # Meta refused the request for another reason (a missing permission, an unknown page).
    GRAPH_REJECTED = "graph_rejected"


def _now() -> datetime:
    return timezone.now()


def _current_organization() -> Organization:
    # By schema name: under schema_context the connection holds a stand-in tenant without a primary key.
    return Organization.objects.get(schema_name=connection.schema_name)


def _what(platform: str) -> str:
    return "Instagram account" if platform == Platform.INSTAGRAM else "page"


def _token(account: SocialAccount) -> str:
    return crypto.token_decrypt(account.access_token_encrypted)


# --- accounts: connect, disconnect, revoked ---------------------------------------------------------


def _graph_refusal(exc: GraphError, *, attr: str, credential_attr: str = "access_token") -> ApplicationError:
    """The API error for a Graph failure while connecting: 503 to retry later, else 400 naming the field."""
    if exc.transient:
        return ApplicationError(ErrorCode.UNAVAILABLE, "Meta's Graph API did not answer; try again in a moment.")
    if exc.token_invalid:
        return ApplicationError(
            SocialErrorCode.TOKEN_INVALID,
            f"Meta refused the {credential_attr.replace('_', ' ')}: {exc}",
            attr=credential_attr,
            status_code=400,
        )
    return ApplicationError(
        SocialErrorCode.GRAPH_REJECTED, f"Meta refused the request: {exc}", attr=attr, status_code=400
    )


def _oauth_user_token(graph: GraphClient, *, code: str, redirect_uri: str) -> str:
    if not (settings.FACEBOOK_APP_ID and settings.FACEBOOK_APP_SECRET):
        raise ApplicationError(
            ErrorCode.UNAVAILABLE, "Connecting with an OAuth code needs FACEBOOK_APP_ID and FACEBOOK_APP_SECRET."
        )
    try:
        short_lived = graph.oauth_code_exchange(code=code, redirect_uri=redirect_uri)
        # Page tokens obtained with a long-lived user token do not expire.
        return graph.oauth_long_lived(token=short_lived) or short_lived
    except GraphError as exc:
        raise _graph_refusal(exc, attr="code", credential_attr="code") from None


def _channel_check(*, organization: Organization, platform: str, external_id: str) -> None:
    """The plan's channel limit, unless this account is connected already (a reconnect adds nothing)."""
    connected = SocialAccount.objects.filter(
        platform=platform, external_id=external_id, status=AccountStatus.CONNECTED
    ).exists()
    if not connected:
        entitlement_check(organization, Entitlement.CHANNELS)


def social_account_connect(
    *,
    organization: Organization,
    platform: str,
    page_id: str,
    access_token: str = "",
    code: str = "",
    redirect_uri: str = "",
    user: Any = None,
) -> tuple[SocialAccount, bool]:
    """Check the token against the Graph API, subscribe the page to the app's webhooks, store the account
    (token encrypted) and route its id to this organization; the backfill is queued after commit.

    Returns (account, created). Not atomic as a whole: the Graph calls happen before the transaction
    that stores, so that no transaction waits on Meta.
    """
    if platform not in Platform.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{platform}' is not a channel.", attr="platform")
    page_id = (page_id or "").strip()
    if not PAGE_ID_RE.match(page_id):
        raise ApplicationError(ErrorCode.INVALID, "A page id is a number, as Meta shows it.", attr="page_id")
    if bool(access_token) == bool(code):
        raise ApplicationError(ErrorCode.INVALID, "Give either an access_token or an OAuth code.", attr="access_token")
    try:
        crypto.encryption_ready()
    except crypto.EncryptionKeyMissing as exc:
        raise ApplicationError(ErrorCode.UNAVAILABLE, str(exc)) from None
    # Fail before touching Meta when the answer is known already (the same checks run again when storing).
    if platform == Platform.FACEBOOK:
        owner = route_owner(platform=platform, external_id=page_id)
        if owner is not None and owner.pk != organization.pk:
            raise ApplicationError(ErrorCode.CONFLICT, TAKEN_DETAIL.format(what="page"), attr="page_id")
        _channel_check(organization=organization, platform=platform, external_id=page_id)

    graph = graph_client()
    token = access_token or _oauth_user_token(graph, code=code, redirect_uri=redirect_uri)
    fields = "id,name,access_token"
    if platform == Platform.INSTAGRAM:
        fields += ",instagram_business_account{id,username,name}"
    try:
        page = graph.object_get(page_id, token=token, fields=fields)
    except GraphError as exc:
        raise _graph_refusal(exc, attr="page_id", credential_attr="code" if code else "access_token") from None
    # A user token yields the page's own token; a page token is the page's token already.
    page_token = str(page.get("access_token") or token)
    external_id, name = page_id, str(page.get("name") or "")
    if platform == Platform.INSTAGRAM:
        linked = page.get("instagram_business_account")
        if not isinstance(linked, dict) or not linked.get("id"):
            raise ApplicationError(
                ErrorCode.INVALID,
                "This page has no Instagram professional account linked to it; link one in the page's settings.",
                attr="page_id",
            )
        external_id = str(linked["id"])
        name = str(linked.get("username") or linked.get("name") or name)
    try:
        graph.page_subscribe(page_id, token=page_token)
    except GraphError as exc:
        raise _graph_refusal(exc, attr="page_id") from None
    return _account_store(
        organization=organization,
        platform=platform,
        external_id=external_id,
        page_id=page_id,
        name=name,
        token=page_token,
        user=user,
    )


@transaction.atomic
def _account_store(
    *, organization: Organization, platform: str, external_id: str, page_id: str, name: str, token: str, user: Any
) -> tuple[SocialAccount, bool]:
    existing = SocialAccount.objects.select_for_update().filter(platform=platform, external_id=external_id).first()
    _channel_check(organization=organization, platform=platform, external_id=external_id)
    route_claim(platform=platform, external_id=external_id, organization=organization, attr="page_id")
    account = existing or SocialAccount(platform=platform, external_id=external_id)
    account.page_id = page_id
    account.name = name[:200]
    account.access_token_encrypted = crypto.token_encrypt(token)
    account.status = AccountStatus.CONNECTED
    account.disconnect_reason = DisconnectReason.NONE
    account.status_detail = ""
    account.connected_by = user if isinstance(user, get_user_model()) else None
    account.connected_at = _now()
    account.disconnected_at = None
    account.save()
    from apps.social.actors import sync_facebook_messages, sync_instagram_messages

    enqueue_on_commit(sync_instagram_messages if platform == Platform.INSTAGRAM else sync_facebook_messages, account.pk)
    return account, existing is None


def social_account_disconnect(*, account: SocialAccount) -> SocialAccount:
    """Stop the channel: unsubscribe the page (unless another connected account uses it), forget the
    token and the route. Meta's answer to the unsubscribe does not block the disconnect.
    """
    if account.status == AccountStatus.CONNECTED and account.access_token_encrypted:
        shared = (
            SocialAccount.objects.filter(page_id=account.page_id, status=AccountStatus.CONNECTED)
            .exclude(pk=account.pk)
            .exists()
        )
        if not shared:
            try:
                graph_client().page_unsubscribe(account.page_id, token=_token(account))
            except (GraphError, crypto.TokenUnreadable) as exc:
                logger.warning("Unsubscribing %s from the app failed (disconnecting anyway): %s", account, exc)
    return _account_disconnected(account_id=account.pk)


@transaction.atomic
def _account_disconnected(*, account_id: int) -> SocialAccount:
    account = SocialAccount.objects.select_for_update().get(pk=account_id)
    route_release(platform=account.platform, external_id=account.external_id, organization=_current_organization())
    account.status = AccountStatus.DISCONNECTED
    account.disconnect_reason = DisconnectReason.MEMBER
    account.status_detail = ""
    account.access_token_encrypted = ""
    account.disconnected_at = _now()
    account.save()
    return account


@transaction.atomic
def social_account_mark_revoked(*, account_id: int, error: GraphError) -> SocialAccount:
    """Meta says the token is dead (code 190): the account is disconnected and the dashboard says why.

    The route stays, so the people writing in keep reaching the conversations list (for a person to
    answer) until the account is connected again or disconnected for good.
    """
    account = SocialAccount.objects.select_for_update().get(pk=account_id)
    if account.disconnect_reason == DisconnectReason.TOKEN_REVOKED:
        return account
    account.status = AccountStatus.DISCONNECTED
    account.disconnect_reason = DisconnectReason.TOKEN_REVOKED
    account.status_detail = (
        f"Meta revoked the access token ({str(error)[:150]}). "
        f"Connect the {_what(account.platform)} again to resume replies."
    )[:300]
    account.access_token_encrypted = ""
    account.disconnected_at = _now()
    account.save()
    logger.warning("%s disconnected: the access token was revoked (%s)", account, error)
    return account


# --- webhook intake (public schema) ------------------------------------------------------------------


def _webhook_items(payload: dict[str, Any]):
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        entry_id = str(entry.get("id") or "")
        for key, kind in (("messaging", EventKind.MESSAGING), ("standby", EventKind.STANDBY)):
            for item in entry.get(key) or []:
                if isinstance(item, dict):
                    yield entry_id, kind, item


def _enqueue_in_schema(schema: str, actor, *args: Any) -> None:
    # The webhook runs on the public host; the job must run in the organization's schema.
    transaction.on_commit(lambda: actor.send_with_options(args=args, **{SCHEMA_OPTION: schema}), robust=False)


def meta_webhook_receive(*, payload: Any) -> int:
    """Store each item of a verified webhook and queue its job in its organization's schema.

    Ids no organization connected are logged and dropped. Returns how many items were queued.
    """
    if not isinstance(payload, dict):
        return 0
    platform = OBJECT_PLATFORM.get(str(payload.get("object") or ""))
    if platform is None:
        logger.info("Ignoring a Meta webhook for object %r", payload.get("object"))
        return 0
    items = list(_webhook_items(payload))
    routes = routes_resolve(platform=platform, external_ids={entry_id for entry_id, _, _ in items})
    events = []
    for entry_id, kind, item in items:
        organization = routes.get(entry_id)
        if organization is None:
            logger.warning("Dropping a %s webhook for %s, which no organization connected", platform, entry_id)
            continue
        message = item.get("message")
        mid = str(message.get("mid") or "")[:255] if isinstance(message, dict) else ""
        events.append(
            InboundEvent(
                platform=platform, external_id=entry_id, organization=organization, kind=kind, mid=mid, payload=item
            )
        )
    if events:
        _events_store(events)
    return len(events)


@transaction.atomic
def _events_store(events: list[InboundEvent]) -> None:
    from apps.social.actors import social_event_process

    for event in InboundEvent.objects.bulk_create(events):
        _enqueue_in_schema(event.organization.schema_name, social_event_process, event.pk)


# --- the inbound job (organization schema) -----------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    mid: str
    sender_id: str
    text: str
    sent_at: datetime
    attachments: str = ""  # what a message without text carried ("[image] <url>"), for the people reading it


def _attachments_text(message: dict[str, Any]) -> str:
    """A line per attachment (photo, sticker, location, shared post, story mention) for the conversation."""
    lines = []
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        kind = str(attachment.get("type") or "attachment")
        payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
        coordinates = payload.get("coordinates") if isinstance(payload.get("coordinates"), dict) else {}
        if coordinates:
            lines.append(f"[{kind}] {coordinates.get('lat')}, {coordinates.get('long')}")
        else:
            lines.append(f"[{kind}] {payload.get('url') or attachment.get('url') or ''}".strip())
    return "\n".join(lines)[: settings.CHAT_MAX_MESSAGE_CHARS]


def _timestamp(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return _now()


def _classify(item: dict[str, Any], account: SocialAccount) -> tuple[str, Incoming | None]:
    """What a messaging item is: a person's message (with its details), or something we do not answer."""
    message = item.get("message")
    sender = item.get("sender")
    sender_id = str(sender.get("id") or "") if isinstance(sender, dict) else ""
    if isinstance(message, dict):
        # An echo is the page's own message (ours, or a person's in the Page Inbox): never answered.
        if message.get("is_echo") or not sender_id or sender_id in (account.external_id, account.page_id):
            return "echo", None
        if message.get("is_deleted"):
            return "deleted", None
        mid = str(message.get("mid") or "")
        if not mid:
            return "unsupported", None
        text = str(message.get("text") or "")
        return "message", Incoming(
            mid=mid[:255],
            sender_id=sender_id[:100],
            text=text,
            sent_at=_timestamp(item.get("timestamp")),
            attachments="" if text.strip() else _attachments_text(message),
        )
    postback = item.get("postback")
    if isinstance(postback, dict) and sender_id and sender_id not in (account.external_id, account.page_id):
        # A button the visitor tapped ("Get Started", a menu item): answered as if they had typed its title.
        text = str(postback.get("title") or postback.get("payload") or "")
        mid = str(postback.get("mid") or "") or f"postback:{sender_id}:{item.get('timestamp')}:{text}"
        return "message", Incoming(
            mid=mid[:255], sender_id=sender_id[:100], text=text, sent_at=_timestamp(item.get("timestamp"))
        )
    for kind in ("read", "delivery", "reaction", "postback", "referral", "optin"):
        if kind in item:
            return kind, None
    return "unsupported", None


def _event_finish(event: InboundEvent, outcome: str) -> str:
    InboundEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(processed_at=_now(), outcome=outcome)
    return outcome


@transaction.atomic
def _inbound_claim(
    *, account: SocialAccount, incoming: Incoming, event: InboundEvent
) -> tuple[SeenMessage | None, str]:
    """Take the message id for this job; (None, why) when another job has it or it was handled."""
    now = _now()
    seen, created = SeenMessage.objects.get_or_create(
        mid=incoming.mid,
        defaults={
            "account": account,
            "direction": Direction.IN,
            "event_id": event.pk,
            "sent_at": incoming.sent_at,
            "status": SeenStatus.PROCESSING,
            "claimed_at": now,
        },
    )
    if created:
        return seen, ""
    seen = SeenMessage.objects.select_for_update().get(pk=seen.pk)
    if seen.status == SeenStatus.DONE:
        return None, "duplicate"
    if seen.status == SeenStatus.PROCESSING and seen.claimed_at and now - seen.claimed_at < CLAIM_TIMEOUT:
        # The same event queued twice (the sweep) is in progress elsewhere; another event is a redelivery.
        return None, "in_progress" if seen.event_id == event.pk else "duplicate"
    # Released by a failed attempt (this is the retry), or held by a job that died: take it over.
    seen.status, seen.claimed_at, seen.event_id = SeenStatus.PROCESSING, now, event.pk
    seen.save(update_fields=["status", "claimed_at", "event_id", "updated_at"])
    return seen, ""


def _claim_release(seen_id: int) -> None:
    SeenMessage.objects.filter(pk=seen_id, status=SeenStatus.PROCESSING).update(
        status=SeenStatus.RECEIVED, claimed_at=None
    )


@transaction.atomic
def _thread_touch(*, account: SocialAccount, visitor_id: str, sent_at: datetime) -> tuple[SocialThread, Conversation]:
    """The person's thread and open conversation; the thread's lock keeps two messages from opening two."""
    thread, _ = SocialThread.objects.get_or_create(account=account, visitor_id=visitor_id)
    thread = SocialThread.objects.select_for_update().get(pk=thread.pk)
    conversation = conversation_for_visitor(channel=account.platform, visitor_id=visitor_id)
    thread.conversation = conversation
    if thread.last_inbound_at is None or sent_at > thread.last_inbound_at:
        thread.last_inbound_at = sent_at
    thread.save()
    return thread, conversation


def _profile_name(account: SocialAccount, visitor_id: str) -> str:
    """The person's name from the Graph API, when the page may read it ("" otherwise)."""
    fields = "name,username" if account.platform == Platform.INSTAGRAM else "first_name,last_name"
    try:
        profile = graph_client().object_get(visitor_id, token=_token(account), fields=fields)
    except GraphError as exc:
        if exc.token_invalid:
            social_account_mark_revoked(account_id=account.pk, error=exc)
        else:
            # Common and harmless: the app lacks the profile permission, or the person hides it.
            logger.info("No profile name for %s on %s: %s", visitor_id, account, exc)
        return ""
    except crypto.TokenUnreadable:
        return ""
    if account.platform == Platform.INSTAGRAM:
        return str(profile.get("name") or profile.get("username") or "")
    first_last = f"{profile.get('first_name') or ''} {profile.get('last_name') or ''}".strip()
    return first_last or str(profile.get("name") or "")


@transaction.atomic
def _lead_attach(*, thread_id: int, conversation_id: int, name: str, source: str) -> None:
    """Create the conversation's lead (source facebook/instagram) unless it has one; the lock makes it once."""
    conversation = Conversation.objects.select_for_update().get(pk=conversation_id)
    if name:
        SocialThread.objects.filter(pk=thread_id).update(profile_name=name[:200])
    if conversation.lead_id is not None:
        return
    lead, _ = lead_capture(name=name, source=source, conversation_id=conversation.pk)
    conversation_lead_link(conversation=conversation, lead=lead)


def _typing_on(account: SocialAccount, thread: SocialThread) -> bool:
    """Show the person that a reply is coming; False when it showed that the token is dead."""
    try:
        graph_client().send_action(account.page_id, token=_token(account), recipient_id=thread.visitor_id)
    except GraphError as exc:
        if exc.token_invalid:
            social_account_mark_revoked(account_id=account.pk, error=exc)
            return False
        logger.info("typing_on for %s failed (the reply still goes out): %s", thread, exc)
    except crypto.TokenUnreadable as exc:
        logger.error("%s: %s", account, exc)
    return True


@transaction.atomic
def _inbound_finish(
    *,
    seen: SeenMessage,
    event: InboundEvent,
    outcome: str,
    thread: SocialThread | None = None,
    reply: tuple[str, str, int | None] | None = None,
) -> str:
    SeenMessage.objects.filter(pk=seen.pk).update(
        status=SeenStatus.DONE, outcome=outcome, thread=thread, claimed_at=None, updated_at=_now()
    )
    if reply is not None and thread is not None:
        kind, text, message_id = reply
        outbound = OutboundMessage.objects.create(
            account=thread.account, thread=thread, kind=kind, message_id=message_id, text=text
        )
        _enqueue_send(outbound.pk)
    return _event_finish(event, outcome)


def inbound_event_process(*, event_id: int) -> str:
    """Handle one stored webhook item in the current (the organization's) schema; returns the outcome.

    Never called inside a transaction: the chat turn runs in between the steps, on its own.
    """
    event = InboundEvent.objects.select_related("organization").filter(pk=event_id).first()
    if event is None:
        return "missing"
    if event.organization.schema_name != connection.schema_name:
        logger.error(
            "Event %s belongs to %s, not %s: not handled",
            event.pk,
            event.organization.schema_name,
            connection.schema_name,
        )
        return "wrong_schema"
    if event.processed_at is not None:
        return event.outcome
    account = SocialAccount.objects.filter(platform=event.platform, external_id=event.external_id).first()
    if account is None:
        return _event_finish(event, "no_account")
    kind, incoming = _classify(event.payload, account)
    if incoming is None:
        return _event_finish(event, kind)
    seen, why = _inbound_claim(account=account, incoming=incoming, event=event)
    if seen is None:
        return why if why == "in_progress" else _event_finish(event, why)
    try:
        return _inbound_handle(account=account, event=event, seen=seen, incoming=incoming)
    except Exception:
        _claim_release(seen.pk)  # the retry takes it again
        raise


def _inbound_handle(*, account: SocialAccount, event: InboundEvent, seen: SeenMessage, incoming: Incoming) -> str:
    from apps.chat.turn import chat_turn_run

    thread, conversation = _thread_touch(account=account, visitor_id=incoming.sender_id, sent_at=incoming.sent_at)
    if conversation.lead_id is None:
        connected = account.status == AccountStatus.CONNECTED
        name = thread.profile_name or (_profile_name(account, thread.visitor_id) if connected else "")
        _lead_attach(thread_id=thread.pk, conversation_id=conversation.pk, name=name, source=account.platform)
        account.refresh_from_db(fields=["status"])
    text = incoming.text.strip()[: settings.CHAT_MAX_MESSAGE_CHARS]
    if not text:
        # Photos, stickers, locations: the assistant answers text only. The conversation keeps what came
        # (the agent reads it in the dashboard); nothing is answered.
        if incoming.attachments:
            conversation_visitor_message_store(conversation=conversation, text=incoming.attachments)
            return _inbound_finish(seen=seen, event=event, outcome="attachment", thread=thread)
        return _inbound_finish(seen=seen, event=event, outcome="unsupported", thread=thread)

    hand_over = ""
    if event.kind == EventKind.STANDBY:
        hand_over = "standby"  # another app (a person in the Page Inbox) controls the thread
    elif account.status != AccountStatus.CONNECTED:
        hand_over = "account_disconnected"
    elif _now() - incoming.sent_at > RESPONSE_WINDOW:
        hand_over = "outside_window"  # too late to answer (a delayed job): a person takes it from here
    elif conversation.status != ConversationStatus.HUMAN and not _typing_on(account, thread):
        hand_over = "account_disconnected"
    if hand_over:
        conversation_hand_over(conversation_id=conversation.pk)
    # In human mode this only stores the person's message (and lead details): no reply comes back.
    frame = chat_turn_run(schema=connection.schema_name, conversation_id=conversation.pk, text=text)
    if hand_over:
        return _inbound_finish(seen=seen, event=event, outcome=hand_over, thread=thread)
    if frame is None:
        return _inbound_finish(seen=seen, event=event, outcome="human_mode", thread=thread)
    if frame["type"] == "done" and (frame.get("text") or "").strip():
        reply = (OutboundKind.REPLY, frame["text"], frame.get("message_id"))
        return _inbound_finish(seen=seen, event=event, outcome="replied", thread=thread, reply=reply)
    if frame["type"] == "error" and frame.get("code") in POLITE_ERRORS and frame.get("detail"):
        reply = (OutboundKind.NOTICE, frame["detail"], None)
        return _inbound_finish(seen=seen, event=event, outcome=f"notice_{frame['code']}", thread=thread, reply=reply)
    return _inbound_finish(seen=seen, event=event, outcome="no_reply", thread=thread)


# --- replies out through the Send API ----------------------------------------------------------------


def _enqueue_send(outbound_id: int) -> None:
    from apps.social.actors import social_outbound_send

    enqueue_on_commit(social_outbound_send, outbound_id)


def outbound_for_event(event: Event) -> OutboundMessage | None:
    """Event hook: an agent's reply to a Messenger/Instagram conversation goes out through the Send API.

    Runs inside the transaction that records the event; the send is queued after it commits.
    """
    if event.type != EventType.CONVERSATION_MESSAGE:
        return None
    data = event.data or {}
    message, conversation = data.get("message") or {}, data.get("conversation") or {}
    if message.get("role") != Role.AGENT or conversation.get("channel") not in Platform.values:
        return None
    thread = social_thread_for_conversation(
        channel=conversation["channel"], visitor_id=conversation.get("visitor_id") or ""
    )
    if thread is None:
        logger.warning(
            "Conversation %s has no Meta thread here: the agent's reply stays in the dashboard", conversation.get("id")
        )
        return None
    outbound, created = OutboundMessage.objects.get_or_create(
        message_id=message["id"],
        defaults={"account": thread.account, "thread": thread, "kind": OutboundKind.AGENT, "text": message["text"]},
    )
    if created:
        _enqueue_send(outbound.pk)
    return outbound


def _messaging_params(outbound: OutboundMessage) -> dict[str, str] | None:
    """How Meta lets this reply go now, or None when it may not (outside the window)."""
    last = outbound.thread.last_inbound_at
    if last is None:
        return None
    age = _now() - last
    if age <= RESPONSE_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if outbound.kind == OutboundKind.AGENT and settings.FACEBOOK_HUMAN_AGENT_TAG and age <= HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    return None


@transaction.atomic
def _outbound_claim(outbound_id: int) -> OutboundMessage | None:
    outbound = (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("account", "thread")
        .filter(pk=outbound_id)
        .first()
    )
    if outbound is None or outbound.status not in (OutboundStatus.PENDING, OutboundStatus.SENDING):
        return None
    now = _now()
    if outbound.status == OutboundStatus.SENDING and outbound.claimed_at and now - outbound.claimed_at < CLAIM_TIMEOUT:
        return None
    outbound.status, outbound.claimed_at, outbound.attempts = OutboundStatus.SENDING, now, outbound.attempts + 1
    outbound.save(update_fields=["status", "claimed_at", "attempts"])
    return outbound


def _outbound_finish(outbound: OutboundMessage, status: str, error: str = "") -> str:
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status=status, error=error[:500], claimed_at=None, sent_at=_now() if status == OutboundStatus.SENT else None
    )
    return status


def outbound_send(*, outbound_id: int) -> str:
    """Deliver one reply, piece by piece; a transient Graph error raises so the job retries from the next piece."""
    outbound = _outbound_claim(outbound_id)
    if outbound is None:
        return "not_pending"
    try:
        return _outbound_deliver(outbound)
    except Exception as exc:
        OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundStatus.SENDING).update(
            status=OutboundStatus.PENDING, claimed_at=None, error=str(exc)[:500]
        )
        raise


def _outbound_deliver(outbound: OutboundMessage) -> str:
    account, thread = outbound.account, outbound.thread
    if account.status != AccountStatus.CONNECTED:
        return _outbound_finish(outbound, OutboundStatus.FAILED, "The account is disconnected.")
    params = _messaging_params(outbound)
    if params is None:
        if outbound.kind != OutboundKind.AGENT and thread.conversation_id:
            conversation_hand_over(conversation_id=thread.conversation_id)
        return _outbound_finish(outbound, OutboundStatus.SKIPPED, "Outside Meta's 24-hour messaging window.")
    token = _token(account)
    graph = graph_client()
    pieces = split_message(outbound.text, platform=account.platform)
    sent_ids = list(outbound.graph_message_ids)
    for index in range(outbound.chunks_sent, len(pieces)):
        try:
            answer = graph.send_text(
                account.page_id, token=token, recipient_id=thread.visitor_id, text=pieces[index], **params
            )
        except GraphError as exc:
            if exc.transient:
                raise
            if exc.token_invalid:
                social_account_mark_revoked(account_id=account.pk, error=exc)
            elif exc.outside_window and outbound.kind != OutboundKind.AGENT and thread.conversation_id:
                conversation_hand_over(conversation_id=thread.conversation_id)
            return _outbound_finish(outbound, OutboundStatus.FAILED, str(exc))
        _piece_sent(outbound=outbound, index=index, sent_ids=sent_ids, mid=str(answer.get("message_id") or ""))
    return _outbound_finish(outbound, OutboundStatus.SENT)


@transaction.atomic
def _piece_sent(*, outbound: OutboundMessage, index: int, sent_ids: list[str], mid: str) -> None:
    """Remember each piece as it goes out: a retry resumes after it, a backfill does not import it again."""
    sent_ids.append(mid)
    OutboundMessage.objects.filter(pk=outbound.pk).update(chunks_sent=index + 1, graph_message_ids=sent_ids)
    if mid:
        SeenMessage.objects.get_or_create(
            mid=mid[:255],
            defaults={
                "account": outbound.account,
                "thread": outbound.thread,
                "direction": Direction.OUT,
                "sent_at": _now(),
                "status": SeenStatus.DONE,
                "outcome": "sent",
            },
        )


# --- backfill --------------------------------------------------------------------------------------


def _graph_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    if text.isascii() and text.isdigit():  # str.isdigit takes "²", which int() refuses
        return datetime.fromtimestamp(int(text), tz=UTC)
    for layout in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    return None


def social_account_sync(*, account_id: int, platform: str) -> int:
    """Backfill the recent conversations of a newly connected account (FACEBOOK_SYNC_DAYS, paginated),
    without answering any of them. Returns how many messages were imported; safe to run again.
    """
    account = SocialAccount.objects.filter(pk=account_id).first()
    if account is None or account.status != AccountStatus.CONNECTED:
        return 0
    if account.platform != platform:
        logger.error("Account %s is a %s account, not %s: not synced", account.pk, account.platform, platform)
        return 0
    token = _token(account)
    graph = graph_client()
    cutoff = _now() - timedelta(days=settings.FACEBOOK_SYNC_DAYS)
    after: str | None = None
    imported = conversations = 0
    while True:
        try:
            page = graph.conversations(
                account.page_id,
                token=token,
                platform=CONVERSATIONS_PLATFORM[account.platform],
                after=after,
                limit=SYNC_PAGE_SIZE,
                messages_limit=SYNC_MESSAGES_PER_CONVERSATION,
            )
        except GraphError as exc:
            if exc.transient:
                raise  # the retry starts over; what was imported is skipped by message id
            if exc.token_invalid:
                social_account_mark_revoked(account_id=account.pk, error=exc)
            else:
                logger.warning("Backfill of %s stopped: %s", account, exc)
            return imported
        finished = False
        for item in page.get("data") or []:
            updated = _graph_time(item.get("updated_time")) if isinstance(item, dict) else None
            if updated is not None and updated < cutoff:
                finished = True  # newest first: the rest is older still
                break
            if isinstance(item, dict):
                imported += _conversation_import(account=account, item=item)
            conversations += 1
            if conversations >= SYNC_MAX_CONVERSATIONS:
                finished = True
                break
        paging = page.get("paging") or {}
        # The cursor, not `paging.next`: that URL names Meta's host, and ours is FACEBOOK_GRAPH_URL.
        after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
        if finished or not after:
            break
    SocialAccount.objects.filter(pk=account.pk).update(last_synced_at=_now())
    return imported


@transaction.atomic
def _conversation_import(*, account: SocialAccount, item: dict[str, Any]) -> int:
    """One conversation's history into the chat (earlier messages first), its thread and its lead."""
    own_ids = {account.external_id, account.page_id}
    participants = (item.get("participants") or {}).get("data") or []
    visitor = next(
        (p for p in participants if isinstance(p, dict) and p.get("id") and str(p["id"]) not in own_ids), None
    )
    if visitor is None:
        return 0
    visitor_id = str(visitor["id"])[:100]
    messages = [m for m in (item.get("messages") or {}).get("data") or [] if isinstance(m, dict) and m.get("id")]
    known = set(
        SeenMessage.objects.filter(mid__in=[str(m["id"])[:255] for m in messages]).values_list("mid", flat=True)
    )
    fresh = sorted(
        ((m, _graph_time(m.get("created_time")) or _now()) for m in messages if str(m["id"])[:255] not in known),
        key=lambda pair: pair[1],
    )
    if not fresh:
        return 0
    thread, _ = SocialThread.objects.get_or_create(account=account, visitor_id=visitor_id)
    thread = SocialThread.objects.select_for_update().get(pk=thread.pk)
    conversation = conversation_for_visitor(channel=account.platform, visitor_id=visitor_id)
    name = str(visitor.get("name") or visitor.get("username") or "")[:200]
    last_inbound = thread.last_inbound_at
    history: list[tuple[str, str, datetime]] = []
    for message, sent_at in fresh:
        inbound = str((message.get("from") or {}).get("id") or "") == visitor_id
        try:
            with transaction.atomic():  # a webhook may have claimed the id meanwhile: then it is its to handle
                SeenMessage.objects.create(
                    mid=str(message["id"])[:255],
                    account=account,
                    thread=thread,
                    direction=Direction.IN if inbound else Direction.OUT,
                    sent_at=sent_at,
                    status=SeenStatus.DONE,
                    outcome="imported",
                )
        except IntegrityError:
            continue
        text = str(message.get("message") or "").strip()
        if not text:
            continue
        history.append((Role.VISITOR if inbound else Role.AGENT, text, sent_at))
        if inbound and (last_inbound is None or sent_at > last_inbound):
            last_inbound = sent_at
    # History is stored as it happened (its own time, no events, no reply).
    imported = conversation_history_import(conversation=conversation, messages=history)
    thread.conversation = conversation
    thread.last_inbound_at = last_inbound
    if name and not thread.profile_name:
        thread.profile_name = name
    thread.save()
    if conversation.lead_id is None and imported:
        _lead_attach(thread_id=thread.pk, conversation_id=conversation.pk, name=name, source=account.platform)
    return imported


# --- the sweep (a periodic task per organization) -------------------------------------------------------


def _due() -> tuple[list[int], list[int]]:
    """(events, replies) of this organization whose job looks lost; what is too old is given up (or, for
    handled events past EVENT_RETENTION, deleted) here."""
    now = _now()
    schema = connection.schema_name
    stale = InboundEvent.objects.filter(
        organization__schema_name=schema, processed_at__isnull=True, received_at__lt=now - SWEEP_GIVE_UP
    )
    stale.update(processed_at=now, outcome="expired")
    InboundEvent.objects.filter(organization__schema_name=schema, processed_at__lt=now - EVENT_RETENTION).delete()
    events = list(
        InboundEvent.objects.filter(
            organization__schema_name=schema, processed_at__isnull=True, received_at__lt=now - SWEEP_GRACE
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    waiting = OutboundMessage.objects.filter(
        status__in=[OutboundStatus.PENDING, OutboundStatus.SENDING], created_at__lt=now - SWEEP_GRACE
    )
    waiting.filter(attempts__gte=OUTBOUND_MAX_ATTEMPTS).update(
        status=OutboundStatus.FAILED, error="Gave up after repeated attempts.", claimed_at=None
    )
    replies = list(waiting.filter(attempts__lt=OUTBOUND_MAX_ATTEMPTS).values_list("pk", flat=True)[:SWEEP_BATCH])
    return events, replies


def social_requeue_due() -> int:
    """Queue again, in this organization's schema, the events and replies whose job was lost."""
    from apps.social.actors import social_event_process, social_outbound_send

    events, replies = _due()
    for event_id in events:
        social_event_process.send(event_id)
    for outbound_id in replies:
        social_outbound_send.send(outbound_id)
    return len(events) + len(replies)


def social_run_due() -> int:
    """The same work done here, now (`run_automations`); one failure does not stop the others."""
    events, replies = _due()
    done = 0
    for event_id in events:
        try:
            inbound_event_process(event_id=event_id)
            done += 1
        except Exception:
            logger.exception("Meta event %s failed", event_id)
    for outbound_id in replies:
        try:
            outbound_send(outbound_id=outbound_id)
            done += 1
        except Exception:
            logger.exception("Meta reply %s failed", outbound_id)
    return done
