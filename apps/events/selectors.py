"""Reads of the event log."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.events.models import Event


def event_list(*, filters: dict | None = None) -> QuerySet[Event]:
    queryset = Event.objects.all()
    event_type = (filters or {}).get("type")
    if event_type:
        queryset = queryset.filter(type=event_type)
    return queryset
