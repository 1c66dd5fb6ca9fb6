"""The base of our websocket consumers, and live pushes to their groups."""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from apps.core.cache import UNREACHABLE

logger = logging.getLogger(__name__)

# A Redis channel layer that is down (the in-memory one never is).
CHANNEL_LAYER_UNREACHABLE = (OSError, *UNREACHABLE)
LAYER_RETRY_SECONDS = (1, 2, 5, 10, 30)


class DirectDispatchJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON websocket consumer whose messages go straight to their handler.

    channels (4.2+) first runs `close_old_connections` in a worker thread for every message, as
    Django does around a request, for consumers that reach the ORM in other ways. Ours reach it only
    through `database_sync_to_async` calls, which close old connections themselves, in the thread and
    the hop of the work. The extra hop cost ~0.3 ms of every message: of every visitor's question
    before it reached the chat, and so of every reply's first token.
    """

    # channels reads the consumer's own channel on the layer next to the socket, and one failed read
    # (Redis down) ended the consumer: every socket closed 1011, new ones at once. The socket only needs
    # the layer for an agent's live replies, so its read waits for the layer to come back instead.
    @property
    def channel_receive(self):
        return self._channel_receive_until_reachable

    @channel_receive.setter
    def channel_receive(self, receive) -> None:
        self._layer_receive = receive

    async def _channel_receive_until_reachable(self):
        waits = iter(LAYER_RETRY_SECONDS)
        while True:
            try:
                return await self._layer_receive()
            except CHANNEL_LAYER_UNREACHABLE as exc:
                wait = next(waits, LAYER_RETRY_SECONDS[-1])
                if wait == LAYER_RETRY_SECONDS[0]:
                    logger.warning("channel layer unreachable (%s): live messages wait, retrying", exc)
                await asyncio.sleep(wait)

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


def group_send_on_commit(group: str, payload: dict) -> None:
    """Send `payload` to a channel-layer group once the current transaction commits.

    A live push is a courtesy to open sockets: with the layer down (Redis), the committed change stands
    and the push is logged as lost, where it failed the commit's caller (a chat turn, an agent's reply).
    """
    from django.db import transaction

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, payload)
        except CHANNEL_LAYER_UNREACHABLE as exc:
            logger.warning("live push to %s lost: channel layer unreachable (%s)", group, exc)

    transaction.on_commit(send)
