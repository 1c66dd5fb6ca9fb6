"""Reads of conversations for the API and dashboard."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.chat.models import Conversation, Message


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
