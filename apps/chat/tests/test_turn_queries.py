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


def test_a_turn_reads_its_conversation_in_one_statement(org, other_org):
    from apps.chat.selectors import conversation_turn_state
    from apps.leads.models import Lead

    with schema_context(org.schema_name):
        lead = Lead.objects.create(name="Dana", phone="+15125550100")
        conversation = Conversation.objects.create(lead=lead)
        for index in range(25):
            role = "visitor" if index % 2 == 0 else "assistant"
            Message.objects.create(conversation=conversation, role=role, text=f"m{index}")
        Message.objects.create(conversation=conversation, role="assistant", text="")  # a reply that never came
        Message.objects.create(conversation=conversation, role="agent", text="Hi, Sam here.")
        with CaptureQueriesContext(connection) as captured:
            state = conversation_turn_state(conversation_id=conversation.pk, messages=4)
        assert len(captured.captured_queries) == 1
        assert (state.status, state.lead_name, state.has_lead_contact) == ("open", "Dana", True)
        # The latest four, oldest first, without the empty reply.
        assert state.recent == [
            ("visitor", "m22"),
            ("assistant", "m23"),
            ("visitor", "m24"),
            ("agent", "Hi, Sam here."),
        ]
        bare = Conversation.objects.create()
        assert conversation_turn_state(conversation_id=bare.pk, messages=4).recent == []
        assert conversation_turn_state(conversation_id=bare.pk, messages=4).has_lead_contact is False
    with schema_context(other_org.schema_name):
        # The other organization's schema has no such conversation (its ids start at 1 too: none made here).
        assert conversation_turn_state(conversation_id=conversation.pk, messages=4) is None


def test_a_turn_reads_the_latest_messages_from_the_end_of_the_index(org):
    """However long the conversation, the read walks back from its newest message: no sort of all of them."""
    import psycopg

    from apps.chat.selectors import _TURN_STATE_SQL

    with schema_context(org.schema_name):
        conversation = Conversation.objects.create()
        Message.objects.bulk_create(
            Message(conversation=conversation, role="visitor" if index % 2 else "assistant", text=f"m{index}")
            for index in range(300)
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE chat_message")
            bound = psycopg.Cursor(cursor.connection)
            bound.execute("SET LOCAL plan_cache_mode = force_generic_plan")  # as a prepared statement runs
            bound.execute("EXPLAIN " + _TURN_STATE_SQL, ["assistant", 20, conversation.pk])
            plan = "\n".join(row[0] for row in bound.fetchall())
    assert "Index Scan Backward using message_conversation_idx" in plan and "Sort" not in plan, plan
