"""The chat turn's database work is bounded: its query count does not grow with the conversation's length."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.chat import services
from apps.chat.llm import StreamStats
from apps.chat.models import Conversation, Message
from apps.chat.tests.conftest import add_listings


def _turn(organization, conversation) -> int:
    with CaptureQueriesContext(connection) as captured:
        prep = services.chat_turn_prepare(
            organization=organization, conversation_id=conversation.pk, text="house in Austin", max_chars=2000
        )
        plan = services.chat_turn_record(prep=prep)
        services.chat_turn_finish(plan=plan, text="See [1].", stats=StreamStats(), partial=False, latency_ms=5)
    return len(captured.captured_queries)


def test_turn_queries_do_not_grow_with_history(org):
    add_listings(org)
    with schema_context(org.schema_name):
        short = Conversation.objects.create()
        long = Conversation.objects.create()
        for index in range(40):
            Message.objects.create(conversation=long, role="visitor" if index % 2 else "assistant", text=f"m{index}")
        _turn(org, Conversation.objects.create())  # warm caches (plans, cities)
        assert _turn(org, long) == _turn(org, short)
