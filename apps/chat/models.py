"""Conversations with visitors (web, Messenger, Instagram) and their messages (tenant schema)."""

from __future__ import annotations

import secrets
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models


def new_conversation_token() -> str:
    # 192 random bits: the token is the visitor's only credential to resume (and read) a conversation.
    return secrets.token_urlsafe(24)


class Channel(models.TextChoices):
    WEB = "web", "Website"
    FACEBOOK = "facebook", "Facebook Messenger"
    INSTAGRAM = "instagram", "Instagram Direct"


class ConversationStatus(models.TextChoices):
    OPEN = "open", "Assistant answers"
    HUMAN = "human", "A person answers"
    CLOSED = "closed", "Closed"


class Conversation(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    token = models.CharField(max_length=64, unique=True, default=new_conversation_token, editable=False)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    # The web widget's visitor id, or the sender's id on Messenger/Instagram.
    visitor_id = models.CharField(max_length=100, blank=True, default="")
    status = models.CharField(max_length=10, choices=ConversationStatus.choices, default=ConversationStatus.OPEN)
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-last_message_at"], name="conversation_status_idx"),
            models.Index(fields=["-last_message_at"], name="conversation_recent_idx"),
            models.Index(fields=["channel", "visitor_id"], name="conversation_visitor_idx"),
            models.Index(fields=["started_at"], name="conversation_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} conversation {self.pk}"


class Role(models.TextChoices):
    VISITOR = "visitor", "Visitor"
    ASSISTANT = "assistant", "Assistant"
    AGENT = "agent", "Agent"


class Message(models.Model):
    # Indexed by message_conversation_idx, which leads with it.
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", db_index=False)
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    # Ids of this organization's listings that the reply presents.
    cited_property_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    client_id = models.CharField(max_length=100, blank=True, default="")
    # The model failed mid-stream: the text is what arrived before the failure.
    is_partial = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    # Agent replies: who wrote it (a public-schema user id; no cross-schema foreign key).
    author_user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # A conversation's messages in order, with the id that breaks ties: a turn reads its latest
            # few from the end of this index, however long the conversation has grown.
            models.Index(fields=["conversation", "created_at", "id"], name="message_conversation_idx"),
            models.Index(fields=["role", "created_at"], name="message_role_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:40]}"
