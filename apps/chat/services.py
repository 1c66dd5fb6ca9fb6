"""Writes of the chat: opening a conversation, the two halves of a turn around the model's stream, agent replies.

These are synchronous and run inside the organization's schema (the caller enters it: a request's
tenant, or `schema_context` in the async turn). The streaming itself lives in apps/chat/turn.py.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.chat.extraction import lead_details_extract
from apps.chat.llm import Listing, StreamStats, TurnContext
from apps.chat.models import Channel, Conversation, ConversationStatus, Message, Role
from apps.chat.selectors import conversation_turn_state
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.text import UNSTORABLE_TEXT, text_storable
from apps.events.models import EventType
from apps.events.services import event_record
from apps.tenants.models import Organization

logger = logging.getLogger(__name__)

HISTORY_MESSAGES = 10
CRITERIA_MESSAGES = 6
# Read per turn for both: the criteria come from the visitor's messages among these.
RECENT_MESSAGES = 2 * HISTORY_MESSAGES
LISTINGS_PER_REPLY = 3
MARKER_RE = re.compile(r"\[(\d{1,2})\]")


@dataclass
class TurnPrep:
    """Everything the reply needs, read before anything is written (so the model can be asked at once)."""

    conversation_id: int
    text: str
    client_id: str = ""
    ai: bool = True  # False: a person is answering this conversation
    error_code: str | None = None
    error_detail: str = ""
    context: TurnContext | None = None
    listings: list[Listing] = field(default_factory=list)


@dataclass
class TurnPlan:
    """The rows a turn wrote: the visitor's message and, when the assistant answers, its reply's row."""

    conversation_id: int
    reply_message_id: int | None = None  # None: no AI reply (human mode, or refused)
    listings: list[Listing] = field(default_factory=list)


# --- serialization shared by the API, the frames and the events ----------------------------------


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "role": message.role,
        "text": message.text,
        "citations": list(message.cited_property_ids),
        "created_at": message.created_at.isoformat(),
    }


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.pk,
        "channel": conversation.channel,
        "status": conversation.status,
        "visitor_id": conversation.visitor_id,
        "lead": conversation.lead_id,
        "started_at": conversation.started_at.isoformat(),
        "last_message_at": conversation.last_message_at.isoformat() if conversation.last_message_at else None,
        "message_count": conversation.message_count,
    }


def citation_data(listing: Listing) -> dict[str, Any]:
    return {
        "property_id": listing.id,
        "title": listing.title,
        "url": listing.url,
        "price": str(listing.price),
        "currency": listing.currency,
        "listing_type": listing.listing_type,
        "bedrooms": listing.bedrooms,
        "city": listing.city,
        "image": listing.image,
    }


# --- conversations --------------------------------------------------------------------------------


@transaction.atomic
def conversation_open(*, token: str | None, channel: str = Channel.WEB, visitor_id: str = "") -> Conversation:
    """Resume the conversation of `token` when it exists here, else start a new one.

    The token and visitor id come from a visitor's URL: one that cannot be stored (a NUL) is no token
    of ours, and no visitor id.
    """
    if token and text_storable(token):
        found = Conversation.objects.filter(token=token, channel=channel).first()
        if found is not None:
            return found
    visitor_id = visitor_id[:100] if text_storable(visitor_id) else ""
    return Conversation.objects.create(channel=channel, visitor_id=visitor_id)


@transaction.atomic
def conversation_for_visitor(*, channel: str, visitor_id: str) -> Conversation:
    """The visitor's conversation on a messaging channel (Messenger, Instagram): one thread, one conversation."""
    if not visitor_id:
        raise ApplicationError(ErrorCode.INVALID, "A visitor id is required.", attr="visitor_id")
    found = (
        Conversation.objects.filter(channel=channel, visitor_id=visitor_id[:100])
        .exclude(status=ConversationStatus.CLOSED)
        .order_by("-started_at")
        .first()
    )
    return found or Conversation.objects.create(channel=channel, visitor_id=visitor_id[:100])


def conversation_history(*, conversation: Conversation, limit: int = 50) -> list[Message]:
    recent = conversation.messages.exclude(role=Role.ASSISTANT, text="").order_by("-created_at", "-id")[:limit]
    return list(reversed(recent))


def _touch(conversation: Conversation) -> None:
    # Row lock first, then count: two messages of one conversation stored at once (two Messenger jobs of
    # one thread) each counted only its own. Waiting on the lock, the count's statement then sees the
    # other's committed message. Callers are atomic: the lock lasts until their commit.
    Conversation.objects.select_for_update().filter(pk=conversation.pk).values_list("pk").first()
    conversation.last_message_at = timezone.now()
    conversation.message_count = conversation.messages.count()
    conversation.save(update_fields=["last_message_at", "message_count", "status"])


def _record_message_event(conversation: Conversation, message: Message) -> None:
    event_record(
        type=EventType.CONVERSATION_MESSAGE,
        data={"conversation": conversation_data(conversation), "message": message_data(message)},
    )


# --- a turn ---------------------------------------------------------------------------------------


def _listing(number: int, prop) -> Listing:
    summary = " ".join((prop.description or "").split())[:280]
    return Listing(
        number=number,
        id=prop.pk,
        title=prop.title,
        property_type=prop.property_type,
        listing_type=prop.listing_type,
        price=prop.price,
        currency=prop.currency,
        bedrooms=prop.bedrooms,
        bathrooms=prop.bathrooms,
        area_sqm=prop.area_sqm,
        neighborhood=prop.neighborhood,
        city=prop.city,
        features=tuple(prop.features or ()),
        url=prop.url,
        image=(prop.images or [None])[0],
        summary=summary,
    )


def _criteria(visitor_texts: list[str], known_cities: list[str]) -> dict[str, Any]:
    """Hard filters the conversation has stated so far; a later message overrides an earlier one."""
    from apps.properties.query_parser import parse_query

    criteria: dict[str, Any] = {}
    for text in visitor_texts:
        criteria.update(parse_query(text, known_cities=known_cities).filters())
    return criteria


def _visitor_texts(conversation: Conversation, limit: int = CRITERIA_MESSAGES) -> list[str]:
    texts = conversation.messages.filter(role=Role.VISITOR).order_by("-created_at", "-id")
    return list(reversed(list(texts.values_list("text", flat=True)[:limit])))


def _validate_text(text: str, max_chars: int) -> str:
    text = (text or "").strip()
    if not text:
        raise ApplicationError(ErrorCode.INVALID, "The message is empty.", attr="text")
    if len(text) > max_chars:
        raise ApplicationError(ErrorCode.INVALID, f"Messages have at most {max_chars} characters.", attr="text")
    if not text_storable(text):  # the edges check it; a Messenger text reaches here straight from Meta
        raise ApplicationError(ErrorCode.INVALID, f"The message {UNSTORABLE_TEXT}.", attr="text")
    return text


def chat_turn_prepare(
    *, organization: Organization, conversation_id: int, text: str, client_id: str = "", max_chars: int
) -> TurnPrep:
    """Read what the reply needs (listings, history, persona) and decide whether the assistant answers.

    Writes nothing: the caller asks the model right away and stores the turn (chat_turn_record)
    while the model thinks.
    """
    from apps.chat.llm import GREETING_RE
    from apps.properties.selectors import property_cities, property_search

    text = _validate_text(text, max_chars)
    if not text_storable(client_id):  # echoed back and stored with the message
        raise ApplicationError(ErrorCode.INVALID, f"The client_id {UNSTORABLE_TEXT}.", attr="client_id")
    # One read serves the status, the lead's contact, the prompt's history and the criteria stated so far.
    state = conversation_turn_state(conversation_id=conversation_id, messages=RECENT_MESSAGES)
    if state is None:
        raise Conversation.DoesNotExist(f"Conversation {conversation_id} does not exist.")
    prep = TurnPrep(conversation_id=conversation_id, text=text, client_id=client_id[:100])
    if state.status == ConversationStatus.HUMAN:
        prep.ai = False
        return prep
    refusal = _reply_refusal(organization)
    if refusal is not None:
        prep.error_code, prep.error_detail = refusal
        return prep

    known_cities = property_cities()
    details = lead_details_extract(text, known_cities=known_cities)
    recent = state.recent
    visitor_texts = [said for role, said in recent if role == Role.VISITOR][-CRITERIA_MESSAGES:]
    criteria = _criteria([*visitor_texts, text], known_cities)
    hits = property_search(query=text, filters=criteria, limit=LISTINGS_PER_REPLY)
    listings = [_listing(number, hit.property) for number, hit in enumerate(hits, start=1)]
    history = [
        {"role": "user" if role == Role.VISITOR else "assistant", "content": said}
        for role, said in recent[-HISTORY_MESSAGES:]
    ]
    prep.listings = listings
    prep.context = TurnContext(
        organization_name=organization.name,
        persona_name=organization.persona_name,
        persona_tone=organization.persona_tone,
        persona_instructions=organization.persona_instructions,
        greeting=organization.greeting,
        user_text=text,
        history=history,
        listings=listings,
        criteria=criteria,
        has_contact=details.has_contact or state.has_lead_contact,
        contact_name=details.name or state.lead_name,
        just_shared_contact=details.has_contact,
        is_greeting_only=bool(GREETING_RE.match(text)),
    )
    return prep


@transaction.atomic
def chat_turn_record(*, prep: TurnPrep) -> TurnPlan:
    """Store the visitor's message, capture lead details, record events, and open the reply's row."""
    from apps.chat.leads import lead_capture_from_chat
    from apps.properties.selectors import property_cities

    conversation = Conversation.objects.select_for_update().get(pk=prep.conversation_id)
    started = conversation.message_count == 0
    if conversation.status == ConversationStatus.CLOSED:
        conversation.status = ConversationStatus.OPEN
    visitor_message = Message.objects.create(
        conversation=conversation, role=Role.VISITOR, text=prep.text, client_id=prep.client_id
    )
    details = lead_details_extract(prep.text, known_cities=property_cities())
    # Criteria alone don't make a lead; they are kept once contact details arrive.
    if not details.is_empty() and (details.has_contact or conversation.lead_id is not None):
        try:
            with transaction.atomic():  # a savepoint: a refused capture leaves no half of itself
                lead_capture_from_chat(conversation=conversation, details=details, history=_visitor_texts(conversation))
        except ApplicationError as exc:
            # The visitor still gets a reply and the message is kept; only the lead waits for better details.
            logger.warning("chat: lead details of conversation %s not captured: %s", conversation.pk, exc.detail)
    _touch(conversation)
    if started:
        event_record(type=EventType.CONVERSATION_STARTED, data={"conversation": conversation_data(conversation)})
    _record_message_event(conversation, visitor_message)
    plan = TurnPlan(conversation_id=conversation.pk, listings=prep.listings)
    if prep.ai and prep.error_code is None:
        reply = Message.objects.create(conversation=conversation, role=Role.ASSISTANT, text="", is_partial=True)
        plan.reply_message_id = reply.pk
    return plan


def _reply_refusal(organization: Organization) -> tuple[str, str] | None:
    """Why the assistant may not answer now (AI replies used up, canceled, past due beyond grace)."""
    from apps.billing.selectors import ai_replies_allowed

    allowed, visitor_message = ai_replies_allowed(organization)
    return None if allowed else (ErrorCode.PLAN_LIMIT, visitor_message)


def cited_listings(text: str, listings: list[Listing]) -> list[Listing]:
    """The listings a reply presents: the [n] markers it uses, in order of first mention."""
    by_number = {listing.number: listing for listing in listings}
    cited: list[Listing] = []
    for match in MARKER_RE.finditer(text):
        listing = by_number.get(int(match.group(1)))
        if listing is not None and listing not in cited:
            cited.append(listing)
    if not cited:
        # A model that named listings without markers: match their titles, never anything else.
        lowered = text.lower()
        cited = [listing for listing in listings if listing.title.lower() in lowered]
    return cited


@transaction.atomic
def chat_turn_finish(
    *,
    plan: TurnPlan,
    text: str,
    stats: StreamStats,
    partial: bool,
    latency_ms: int | None,
) -> tuple[Message, list[Listing]]:
    """Store the reply (complete or partial) with the listings it cites, and record its event."""
    cited = cited_listings(text, plan.listings)
    message = Message.objects.select_related("conversation").get(pk=plan.reply_message_id)
    message.text = text
    message.is_partial = partial
    message.cited_property_ids = [listing.id for listing in cited]
    message.latency_ms = latency_ms
    message.prompt_tokens = stats.prompt_tokens
    message.completion_tokens = stats.completion_tokens
    message.save()
    conversation = message.conversation
    _touch(conversation)
    _record_message_event(conversation, message)
    return message, cited


@transaction.atomic
def conversation_agent_reply(*, conversation: Conversation, text: str, author_user_id: int | None) -> Message:
    """A person answers: store it, put the conversation in human mode, push it live after commit."""
    from apps.chat.realtime import push_agent_message

    text = (text or "").strip()
    if not text:
        raise ApplicationError(ErrorCode.INVALID, "The message is empty.", attr="text")
    conversation.status = ConversationStatus.HUMAN
    message = Message.objects.create(
        conversation=conversation, role=Role.AGENT, text=text, author_user_id=author_user_id
    )
    _touch(conversation)
    _record_message_event(conversation, message)
    push_agent_message(conversation=conversation, message=message)
    return message


@transaction.atomic
def conversation_hand_over(*, conversation_id: int) -> None:
    """Put the conversation in a person's hands (e.g. a Messenger thread outside the 24-hour window)."""
    Conversation.objects.filter(pk=conversation_id).exclude(status=ConversationStatus.HUMAN).update(
        status=ConversationStatus.HUMAN
    )


def conversation_lead_link(*, conversation: Conversation, lead) -> None:
    """Make `lead` the conversation's lead (the lead pipeline keeps the conversation id on its side)."""
    if conversation.lead_id != lead.pk:
        conversation.lead = lead
        conversation.save(update_fields=["lead"])


@transaction.atomic
def conversation_visitor_message_store(*, conversation: Conversation, text: str) -> Message:
    """A visitor's message that gets no reply (a photo, a sticker on Messenger): stored, its event recorded."""
    message = Message.objects.create(conversation=conversation, role=Role.VISITOR, text=text)
    _touch(conversation)
    if conversation.message_count == 1:  # counted under the row lock: one of two at once sees 2
        event_record(type=EventType.CONVERSATION_STARTED, data={"conversation": conversation_data(conversation)})
    _record_message_event(conversation, message)
    return message


@transaction.atomic
def conversation_history_import(*, conversation: Conversation, messages: list[tuple[str, str, Any]]) -> int:
    """Store earlier messages as they happened — (role, text, sent_at) — without events or replies.

    For a channel's backfill: the thread existed before the platform saw it.
    """
    imported = 0
    for role, text, sent_at in messages:
        stored = Message.objects.create(conversation=conversation, role=role, text=text)
        Message.objects.filter(pk=stored.pk).update(created_at=sent_at)  # auto_now_add ignores a given value
        imported += 1
    if imported:
        latest = max(sent_at for _, _, sent_at in messages)
        if conversation.last_message_at is None or latest > conversation.last_message_at:
            conversation.last_message_at = latest
        conversation.message_count = conversation.messages.count()
        conversation.save(update_fields=["last_message_at", "message_count"])
    return imported


@transaction.atomic
def conversation_release(*, conversation: Conversation) -> Conversation:
    """Hand the conversation back to the assistant."""
    conversation.status = ConversationStatus.OPEN
    conversation.save(update_fields=["status"])
    return conversation
