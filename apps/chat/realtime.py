"""Channel-layer groups of the chat: one per conversation, named with its schema so tenants never share one."""

from __future__ import annotations

from django.db import connection

from apps.chat.models import Conversation, Message
from apps.core.consumers import group_send_on_commit


def conversation_group(schema_name: str, conversation_id: int) -> str:
    # Group names allow [a-zA-Z0-9_.-]; schema names are [a-z0-9_].
    return f"chat.{schema_name}.conversation.{conversation_id}"


def push_agent_message(*, conversation: Conversation, message: Message) -> None:
    """After commit, send an agent's message to every socket of the conversation."""
    from apps.chat.services import message_data

    group = conversation_group(connection.schema_name, conversation.pk)
    group_send_on_commit(group, {"type": "chat.agent_message", "message": message_data(message)})
