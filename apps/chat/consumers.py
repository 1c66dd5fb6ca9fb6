"""Websocket of the live chat (/ws/chat/<org_slug>/): a thin edge over chat_turn, one generation task per socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django_tenants.utils import schema_context

from apps.chat import services
from apps.chat.realtime import conversation_group
from apps.chat.turn import chat_turn
from apps.core.consumers import CHANNEL_LAYER_UNREACHABLE, DirectDispatchJsonConsumer
from apps.core.errors import ApplicationError
from apps.core.ratelimit import rate_limits_hit, scope_client_ip
from apps.core.text import json_parse
from apps.tenants.models import Organization

logger = logging.getLogger(__name__)


@database_sync_to_async
def _open(schema: str, token: str | None, visitor_id: str) -> dict:
    close_old_connections()
    with schema_context(schema):
        organization = Organization.objects.get(schema_name=schema)
        conversation = services.conversation_open(token=token, visitor_id=visitor_id)
        history = services.conversation_history(conversation=conversation)
        return {
            "id": conversation.pk,
            "frame": {
                "type": "conversation",
                "conversation": conversation.token,
                "greeting": organization.greeting,
                "messages": [
                    {"id": m.pk, "role": m.role, "text": m.text, "created_at": m.created_at.isoformat()}
                    for m in history
                ],
            },
        }


class ChatConsumer(DirectDispatchJsonConsumer):
    """The organization and origin were checked by TenantWebsocketMiddleware; only its schema name is kept."""

    async def connect(self):
        self.schema = self.scope["schema_name"]
        self.task: asyncio.Task | None = None
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("conversation") or [None])[0]
        self.ip = scope_client_ip(self.scope)
        opened = await _open(self.schema, token, visitor_id=(query.get("visitor") or [""])[0])
        self.conversation_id = opened["id"]
        self.group = conversation_group(self.schema, self.conversation_id)
        await self.accept()
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except CHANNEL_LAYER_UNREACHABLE as exc:
            # The visitor still chats with the assistant; only an agent's replies will not arrive live
            # (they are in the conversation on the next connect). It closed the socket with 1011.
            logger.warning("chat socket in %s without live agent messages: channel layer unreachable (%s)",
                           self.schema, exc)  # fmt: skip
            self.group = None
        await self.send_json(opened["frame"])

    async def disconnect(self, code):
        if getattr(self, "group", None):
            with contextlib.suppress(*CHANNEL_LAYER_UNREACHABLE):  # the group expires on the layer's side
                await self.channel_layer.group_discard(self.group, self.channel_name)
        task = getattr(self, "task", None)
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # Garbage gets an error frame and the socket stays open.
        try:
            content = json_parse(text_data) if text_data is not None else None
        except (TypeError, ValueError):
            content = None
        if (
            not isinstance(content, dict)
            or content.get("type") != "message"
            or not isinstance(content.get("text"), str)
        ):
            await self._error("invalid", 'Send {"type": "message", "text": "…"}.')
            return
        client_id = content.get("client_id")
        client_id = str(client_id)[:100] if client_id is not None else ""
        text = content["text"].strip()
        if not text or len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
            await self._error("invalid", f"A message has 1 to {settings.CHAT_MAX_MESSAGE_CHARS} characters.")
            return
        if self.task is not None and not self.task.done():
            await self._error("invalid", "Wait for the current reply before sending another message.")
            return
        self.task = asyncio.create_task(self._run_turn(text, client_id))

    def _rate_limit(self) -> None:
        """The turn's guard (sync, run where the turn reads the database): messages per visitor and per IP."""
        wait = rate_limits_hit(
            [
                (f"{self.schema}:conversation:{self.conversation_id}", settings.CHAT_RATE_LIMIT_VISITOR),
                (f"ip:{self.ip}", settings.CHAT_RATE_LIMIT_IP),
            ]
        )
        if wait:
            raise ApplicationError("rate_limited", f"Too many messages; try again in {wait} s.")

    async def _run_turn(self, text: str, client_id: str) -> None:
        try:
            async with contextlib.aclosing(
                chat_turn(
                    schema=self.schema,
                    conversation_id=self.conversation_id,
                    text=text,
                    client_id=client_id,
                    guard=self._rate_limit,
                )
            ) as frames:
                async for frame in frames:
                    await self.send_json(frame)
        except asyncio.CancelledError:
            raise
        except RuntimeError as exc:
            # A send racing the disconnect raises autobahn's Disconnected (a RuntimeError): nobody to tell.
            logger.debug("chat socket closed during a turn: %s", exc)
        except Exception:
            logger.exception("chat turn failed in %s", self.schema)
            with contextlib.suppress(Exception):
                await self._error("unavailable", "Something went wrong. Please try again.")

    async def _error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})

    async def chat_agent_message(self, event):
        await self.send_json({"type": "message", "message": event["message"]})
