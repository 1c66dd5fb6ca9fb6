"""Pushes new conversations and messages to the organization's open dashboards, after commit."""

from __future__ import annotations

from django.db import connection

from apps.core.consumers import group_send_on_commit
from apps.events.models import Event, EventType
from apps.events.services import event_hook

PUSHED_TYPES = (EventType.CONVERSATION_STARTED, EventType.CONVERSATION_MESSAGE)


def dashboard_group(schema_name: str) -> str:
    # The schema in the name: two organizations' dashboards never share a group.
    return f"dashboard.{schema_name}"


@event_hook
def dashboard_event_push(event: Event) -> None:
    """Runs inside the event's transaction; the push waits for its commit (never shows unsaved rows)."""
    if event.type not in PUSHED_TYPES:
        return
    group = dashboard_group(connection.schema_name)
    payload = {
        "type": "dashboard.event",
        "event": event.type,
        "conversation": event.data.get("conversation"),
        "message": event.data.get("message"),
    }
    group_send_on_commit(group, payload)
