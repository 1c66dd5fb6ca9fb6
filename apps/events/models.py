"""The organization's event log: every change integrators hear about (tenant schema)."""

from __future__ import annotations

import uuid

from django.db import models


class EventType(models.TextChoices):
    LEAD_CREATED = "lead.created"
    LEAD_UPDATED = "lead.updated"
    LEAD_STATUS_CHANGED = "lead.status_changed"
    CONVERSATION_STARTED = "conversation.started"
    CONVERSATION_MESSAGE = "conversation.message"
    EMAIL_DELIVERED = "email.delivered"
    EMAIL_OPENED = "email.opened"
    EMAIL_CLICKED = "email.clicked"
    EMAIL_BOUNCED = "email.bounced"
    EMAIL_UNSUBSCRIBED = "email.unsubscribed"
    SUBSCRIPTION_UPDATED = "subscription.updated"


class Event(models.Model):
    # The public id integrators see; webhook deliveries derive their `webhook-id` from it.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(max_length=50, choices=EventType.choices)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["type", "-created_at"], name="event_type_created_idx"),
            models.Index(fields=["-created_at"], name="event_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"
