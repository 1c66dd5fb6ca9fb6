"""Our consumers' base dispatches each message straight to its handler, without channels' database hop."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.testing import WebsocketCommunicator

from apps.core.consumers import DirectDispatchJsonConsumer


class Echo:
    async def connect(self):
        await self.accept()

    async def receive_json(self, content, **kwargs):
        await self.send_json({"echo": content})


class ChannelsEcho(Echo, AsyncJsonWebsocketConsumer):
    pass


class DirectEcho(Echo, DirectDispatchJsonConsumer):
    pass


async def hops_per_message(consumer, monkeypatch) -> int:
    hops = []

    async def spy():
        hops.append(1)

    monkeypatch.setattr("channels.consumer.aclose_old_connections", spy)

    async def no_database():
        pass

    # Disconnecting closes old connections too (channels.generic.websocket), not counted here. These tests
    # have no database: in a worker whose earlier test left a connection in asgiref's thread, that close
    # asks the connection for its autocommit, which pytest-django refuses (a flaky RuntimeError).
    monkeypatch.setattr("channels.generic.websocket.aclose_old_connections", no_database)
    communicator = WebsocketCommunicator(consumer.as_asgi(), "/ws/echo/")
    connected, _ = await communicator.connect()
    assert connected
    before = len(hops)
    await communicator.send_json_to({"n": 1})
    assert await communicator.receive_json_from() == {"echo": {"n": 1}}
    await communicator.disconnect()
    return len(hops) - before


async def test_channels_hops_to_a_thread_for_every_message(monkeypatch):
    assert await hops_per_message(ChannelsEcho, monkeypatch) >= 1


async def test_ours_go_straight_to_the_handler(monkeypatch):
    assert await hops_per_message(DirectEcho, monkeypatch) == 0
