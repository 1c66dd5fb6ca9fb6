"""Reads of conversations: for the API and dashboard, and what a chat turn needs before the model is asked."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from apps.chat.models import Conversation, Message, Role
from apps.core.sql import bound_rows
from apps.leads.models import Lead


def conversation_list(*, filters: dict | None = None) -> QuerySet[Conversation]:
    filters = filters or {}
    queryset = Conversation.objects.all()
    for name in ("status", "channel"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("lead"):
        queryset = queryset.filter(lead_id=filters["lead"])
    return queryset


def conversation_get(*, pk: int) -> Conversation | None:
    messages = Prefetch("messages", queryset=Message.objects.exclude(role="assistant", text="").order_by("created_at"))
    return Conversation.objects.prefetch_related(messages).filter(pk=pk).first()


@dataclass(frozen=True)
class TurnState:
    """A conversation as a turn reads it: its status, its lead's contact, its latest messages."""

    status: str
    lead_name: str
    has_lead_contact: bool
    recent: list[tuple[str, str]]  # (role, text), oldest first, without empty replies


_TURN_STATE_SQL = (
    "SELECT c.status, COALESCE(l.name, ''), COALESCE(l.email, '') <> '' OR COALESCE(l.phone, '') <> '', "
    "ARRAY(SELECT ARRAY[m.role::text, m.text] FROM {message} m WHERE m.conversation_id = c.id "
    "AND NOT (m.role = %s AND m.text = '') ORDER BY m.created_at DESC, m.id DESC LIMIT %s) "
    "FROM {conversation} c LEFT JOIN {lead} l ON l.id = c.lead_id WHERE c.id = %s"
).format(
    message=f'"{Message._meta.db_table}"',
    conversation=f'"{Conversation._meta.db_table}"',
    lead=f'"{Lead._meta.db_table}"',
)


def conversation_turn_state(*, conversation_id: int, messages: int) -> TurnState | None:
    """The conversation with its lead and its latest `messages` messages, in one prepared statement."""
    rows = bound_rows(_TURN_STATE_SQL, [Role.ASSISTANT.value, messages, conversation_id])
    if not rows:
        return None
    status, lead_name, has_contact, recent = rows[0]
    return TurnState(
        status=status,
        lead_name=lead_name,
        has_lead_contact=bool(has_contact),
        recent=[(role, text) for role, text in reversed(recent)],
    )
