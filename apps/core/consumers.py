"""The base of our websocket consumers."""

from __future__ import annotations

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class DirectDispatchJsonConsumer(AsyncJsonWebsocketConsumer):
    """A JSON websocket consumer whose messages go straight to their handler.

    channels (4.2+) first runs `close_old_connections` in a worker thread for every message, as
    Django does around a request, for consumers that reach the ORM in other ways. Ours reach it only
    through `database_sync_to_async` calls, which close old connections themselves, in the thread and
    the hop of the work. The extra hop cost ~0.3 ms of every message: of every visitor's question
    before it reached the chat, and so of every reply's first token.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
