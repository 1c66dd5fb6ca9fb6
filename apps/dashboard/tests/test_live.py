"""The dashboard's websocket: members only, and a visitor's chat shows up live in their organization alone."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

# The chat's committed organizations with listings, and its offline model (fixtures shared, not copied).
from apps.chat.tests.conftest import _fresh_rate_limits, _offline_model, ask, chat_orgs, connect  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live(chat_orgs):  # noqa: F811
    from conftest import member

    acme, globex = chat_orgs["acme"], chat_orgs["globex"]
    people = {
        "acme_member": member(acme, "member", email="agent@acme.test"),
        "globex_owner": member(globex, "owner", email="boss@globex.test"),
    }
    cookies = {}
    for name, user in people.items():
        client = Client(HTTP_HOST=(acme if name.startswith("acme") else globex).host)
        client.force_login(user)
        cookies[name] = client.cookies["sessionid"].value
    return {**chat_orgs, "cookies": cookies}


async def dashboard(host: str, session: str | None) -> WebsocketCommunicator:
    from asgi import application

    headers = [(b"host", host.encode()), (b"origin", f"http://{host}".encode())]
    if session:
        headers.append((b"cookie", f"sessionid={session}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/dashboard/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def test_anonymous_and_outsiders_are_closed(live):
    acme = live["acme"]
    anonymous = await dashboard(acme.host, None)
    assert (await anonymous.receive_output(timeout=5))["code"] == 4401
    outsider = await dashboard(acme.host, live["cookies"]["globex_owner"])
    assert (await outsider.receive_output(timeout=5))["code"] == 4403


async def test_a_visitor_conversation_appears_live_in_its_own_dashboard_only(live):
    acme, globex = live["acme"], live["globex"]
    watcher = await dashboard(acme.host, live["cookies"]["acme_member"])
    assert await watcher.receive_json_from(timeout=5) == {"type": "ready"}
    other = await dashboard(globex.host, live["cookies"]["globex_owner"])
    assert await other.receive_json_from(timeout=5) == {"type": "ready"}

    visitor = await connect(acme.slug)
    await visitor.receive_json_from()
    done = (await ask(visitor, "3 bedroom house in Austin"))[-1]

    frames = [await watcher.receive_json_from(timeout=5) for _ in range(3)]
    assert [frame["type"] for frame in frames] == [
        "conversation.started",
        "conversation.message",
        "conversation.message",
    ]
    conversation_id = frames[0]["conversation"]["id"]
    assert {frame["conversation"]["id"] for frame in frames} == {conversation_id}
    assert frames[1]["message"]["role"] == "visitor" and frames[1]["message"]["text"] == "3 bedroom house in Austin"
    assert frames[2]["message"] == {**frames[2]["message"], "role": "assistant", "text": done["text"]}
    # Globex's dashboard heard nothing of Acme's visitor.
    assert await other.receive_nothing(timeout=0.3)
    await asyncio.gather(visitor.disconnect(), watcher.disconnect(), other.disconnect())
