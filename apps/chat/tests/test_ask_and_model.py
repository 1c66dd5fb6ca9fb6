"""POST /api/chat/ask (JSON and SSE), the OpenAI client against a fake server, and the conversations API."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient
from django_tenants.utils import schema_context

from apps.chat.llm import chat_model_reset
from apps.chat.tests.conftest import add_listings
from tests.fakes.openai_server import FakeOpenAI

transactional = pytest.mark.django_db(transaction=True)


async def _ask(body: dict, headers: dict | None = None):
    return await AsyncClient().post(
        "/api/chat/ask", json.dumps(body), content_type="application/json", headers=headers or {}
    )


@database_sync_to_async
def _stored(organization, **filters):
    from apps.chat.models import Message

    with schema_context(organization.schema_name):
        return Message.objects.get(**filters)


@transactional
async def test_json_ask_and_resume(chat_orgs):
    response = await _ask({"org": "chat-acme", "message": "house with a pool in Austin"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"conversation", "message_id", "text", "citations"}
    assert body["citations"][0]["property_id"] == chat_orgs["acme_ids"][0]
    again = await _ask({"org": "chat-acme", "message": "and in Denver?", "conversation": body["conversation"]})
    assert again.json()["conversation"] == body["conversation"]
    assert "Cherry Creek" in again.json()["text"]


@transactional
async def test_sse_ask_streams_the_same_frames(chat_orgs):
    response = await _ask(
        {"org": "chat-acme", "message": "loft downtown for rent"}, headers={"Accept": "text/event-stream"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    raw = b"".join([chunk async for chunk in response.streaming_content]).decode()
    events = [block for block in raw.split("\n\n") if block]
    names = [block.split("\n")[0].removeprefix("event: ") for block in events]
    assert names[0] == "conversation" and names[-1] == "done" and set(names[1:-1]) == {"delta"}
    frames = [json.loads(block.split("\n")[1].removeprefix("data: ")) for block in events]
    assert "".join(frame["text"] for frame in frames[1:-1]) == frames[-1]["text"]
    assert frames[-1]["conversation"] == frames[0]["conversation"]
    assert "Downtown loft" in frames[-1]["text"]


@pytest.mark.parametrize(
    ("body", "status", "attr"),
    [
        ({"message": "hi"}, 400, "org"),
        ({"org": "chat-acme"}, 400, "message"),
        ({"org": "chat-acme", "message": "hi", "conversation": 5}, 400, "conversation"),
        ({"org": "ghost", "message": "hi"}, 404, "org"),
        # What PostgreSQL cannot store: each was a 500, the message one after opening a conversation.
        ({"org": "chat-\x00acme", "message": "hi"}, 400, "org"),
        ({"org": "chat-acme", "message": "hi", "conversation": "ab\x00c"}, 400, "conversation"),
        ({"org": "chat-acme", "message": "hi\x00there"}, 400, "message"),
        ({"org": "chat-acme", "message": "hi \ud800"}, 400, "message"),
    ],
)
@transactional
async def test_ask_bad_input_names_the_field(chat_orgs, body, status, attr):
    response = await _ask(body)
    assert response.status_code == status
    assert response.json()["errors"][0]["attr"] == attr


@transactional
async def test_ask_with_json_nested_too_deeply_is_a_parse_error(chat_orgs):
    response = await AsyncClient().post(
        "/api/chat/ask", '{"org": "chat-acme", "message": "hi", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "parse_error"


@transactional
async def test_sse_ask_ends_with_an_error_event_when_the_turn_fails(chat_orgs, monkeypatch):
    # The 200 and the first event are sent before the turn runs: a failure must reach the client in the stream.
    from apps.chat import services

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services, "chat_turn_record", broken)
    response = await _ask({"org": "chat-acme", "message": "loft downtown"}, headers={"Accept": "text/event-stream"})
    raw = b"".join([chunk async for chunk in response.streaming_content]).decode()
    last = [block for block in raw.split("\n\n") if block][-1]
    assert last.startswith("event: error")
    assert json.loads(last.split("\n")[1].removeprefix("data: "))["code"] == "unavailable"


@transactional
async def test_a_model_that_trickles_is_cut_at_the_timeout_and_the_partial_reply_kept(chat_orgs, settings):
    # OPENAI_TIMEOUT bounded each read only: a piece every 0.4 s kept a turn going for as long as it lasted.
    with FakeOpenAI("one two three four five six seven eight nine ten", piece_delay=0.4) as fake:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL, settings.OPENAI_TIMEOUT = "sk-test", fake.base_url, 1.0
        chat_model_reset()
        started = asyncio.get_running_loop().time()
        response = await _ask({"org": "chat-acme", "message": "house in Austin"})
        elapsed = asyncio.get_running_loop().time() - started
    assert response.status_code == 503 and response.json()["errors"][0]["code"] == "unavailable"
    assert elapsed < 3.0
    reply = await _stored(chat_orgs["acme"], role="assistant")
    assert reply.is_partial and reply.text.startswith("one") and "ten" not in reply.text


@transactional
async def test_ask_rate_limited_with_retry_after(chat_orgs, settings):
    settings.CHAT_RATE_LIMIT_IP = "1/m"
    assert (await _ask({"org": "chat-acme", "message": "hi"})).status_code == 200
    limited = await _ask({"org": "chat-acme", "message": "hi again"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
    assert limited.json()["errors"][0]["code"] == "rate_limited"


@transactional
async def test_openai_client_path_against_the_fake_server(chat_orgs, settings):
    with FakeOpenAI("I recommend [1], a sunny craftsman with a pool.") as fake:
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = fake.base_url
        settings.OPENAI_MODEL = "gpt-test"
        chat_model_reset()
        body = (await _ask({"org": "chat-acme", "message": "3 bed house in Austin with a pool"})).json()
    assert body["text"] == "I recommend [1], a sunny craftsman with a pool."
    assert [c["property_id"] for c in body["citations"]] == [chat_orgs["acme_ids"][0]]
    request = fake.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["headers"]["authorization"] == "Bearer sk-test"
    sent = request["body"]
    assert sent["model"] == "gpt-test" and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True} and sent["temperature"] == 0.3
    system = sent["messages"][0]["content"]
    assert "[1] Sunny craftsman with pool in Travis Heights" in system and "Acme Realty" in system
    assert "Globex" not in system

    stored = await _stored(chat_orgs["acme"], pk=body["message_id"])
    assert (stored.prompt_tokens, stored.completion_tokens) == (42, 9) and stored.latency_ms is not None


@pytest.mark.parametrize("mode", ["cut", "error"])
@transactional
async def test_model_failure_is_unavailable_and_keeps_the_partial_reply(chat_orgs, settings, mode):
    with FakeOpenAI("one two three four five six seven eight", mode=mode) as fake:
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = fake.base_url
        chat_model_reset()
        response = await _ask({"org": "chat-acme", "message": "hello"})
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "unavailable"
    reply = await _stored(chat_orgs["acme"], role="assistant")
    assert reply.is_partial
    if mode == "cut":
        assert reply.text.startswith("one two") and "eight" not in reply.text


@transactional
async def test_conversations_api_and_isolation(chat_orgs):
    from channels.db import database_sync_to_async
    from rest_framework.test import APIClient

    from apps.accounts.services import api_key_create

    body = (await _ask({"org": "chat-acme", "message": "house in Austin"})).json()

    @database_sync_to_async
    def check():
        acme, globex = chat_orgs["acme"], chat_orgs["globex"]
        _, key = api_key_create(organization=acme, name="t")
        client = APIClient(HTTP_HOST=acme.host, HTTP_AUTHORIZATION=f"Api-Key {key}")
        listing = client.get("/api/v1/conversations/").json()
        assert listing["count"] == 1
        conversation_id = listing["results"][0]["id"]
        detail = client.get(f"/api/v1/conversations/{conversation_id}/").json()
        assert [m["role"] for m in detail["messages"]] == ["visitor", "assistant"]
        assert detail["messages"][1]["id"] == body["message_id"]
        _, other_key = api_key_create(organization=globex, name="t")
        other = APIClient(HTTP_HOST=globex.host, HTTP_AUTHORIZATION=f"Api-Key {other_key}")
        assert other.get("/api/v1/conversations/").json()["count"] == 0
        assert other.get(f"/api/v1/conversations/{conversation_id}/").status_code == 404
        assert other.post(f"/api/v1/conversations/{conversation_id}/messages/", {"text": "x"}).status_code == 404
        assert client.post(f"/api/v1/conversations/{conversation_id}/messages/", {"text": " "}).status_code == 400

    await check()


def test_conversation_list_query_count_does_not_grow(org, client_for, api_key, django_assert_num_queries):
    from apps.chat.models import Conversation, Message

    client = client_for(org, api_key=api_key)

    def fill(count):
        with schema_context(org.schema_name):
            for _ in range(count):
                conversation = Conversation.objects.create()
                Message.objects.create(conversation=conversation, role="visitor", text="hi")

    fill(3)
    client.get("/api/v1/conversations/")  # warm: last_used_at write, caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/conversations/").json()["count"] == 3
    fill(9)
    # Four times the conversations, the same queries: no query per row.
    with django_assert_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/conversations/").json()["count"] == 12


def test_listings_fixture_helper_is_tenant_scoped(org, other_org):
    ids = add_listings(org)
    with schema_context(other_org.schema_name):
        from apps.properties.models import Property

        assert not Property.objects.filter(pk__in=ids).exists()


@transactional
def test_chat_turn_run_from_sync_code_for_a_messaging_channel(chat_orgs):
    """What a Messenger/Instagram job does: find the sender's conversation, run a whole turn, get the reply."""
    from apps.chat.services import conversation_for_visitor
    from apps.chat.turn import chat_turn_run

    acme = chat_orgs["acme"]
    with schema_context(acme.schema_name):
        conversation = conversation_for_visitor(channel="facebook", visitor_id="psid-1")
        again = conversation_for_visitor(channel="facebook", visitor_id="psid-1")
    assert again.pk == conversation.pk
    final = chat_turn_run(schema=acme.schema_name, conversation_id=conversation.pk, text="house in Denver")
    assert final["type"] == "done" and "Cherry Creek" in final["text"]
    assert final["citations"][0]["property_id"] == chat_orgs["acme_ids"][2]


@transactional
async def test_the_turn_is_stored_while_the_model_thinks(chat_orgs, settings):
    # The visitor's message is written once the request has left for the model (httpcore's trace), not
    # before it (that work would delay the request) nor at the first token (that would delay the first delta).
    import asyncio

    from apps.chat.models import Message, Role
    from apps.chat.services import conversation_open
    from apps.chat.turn import chat_turn

    @database_sync_to_async
    def open_conversation():
        with schema_context(chat_orgs["acme"].schema_name):
            return conversation_open(token=None).pk

    @database_sync_to_async
    def visitor_messages(conversation_id):
        with schema_context(chat_orgs["acme"].schema_name):
            return Message.objects.filter(conversation_id=conversation_id, role=Role.VISITOR).count()

    with FakeOpenAI("Here is [1].", first_token_delay=1.5) as fake:
        settings.OPENAI_API_KEY = "sk-test"
        settings.OPENAI_BASE_URL = fake.base_url
        chat_model_reset()
        conversation_id = await open_conversation()
        frames = chat_turn(schema=chat_orgs["acme"].schema_name, conversation_id=conversation_id, text="a pool")
        first = asyncio.ensure_future(anext(frames))
        async with asyncio.timeout(1.2):
            while not await visitor_messages(conversation_id):
                await asyncio.sleep(0.02)
        assert not first.done()  # stored before the first token came
        assert (await first)["type"] == "delta"
        assert [frame["type"] async for frame in frames][-1] == "done"


@pytest.mark.parametrize(
    ("params", "attr"), [({"status": "archived"}, "status"), ({"channel": "fax"}, "channel"), ({"lead": "x"}, "lead")]
)
def test_conversation_list_bad_filters_are_400(org, client_for, api_key, params, attr):
    response = client_for(org, api_key=api_key).get("/api/v1/conversations/", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr
