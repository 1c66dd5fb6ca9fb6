"""The async half of a chat turn: stream the model's reply as frames, between the two database halves.

Used by the websocket consumer, POST /api/chat/ask (JSON or SSE) and the Meta channels. Each
database step is one sync function that enters the organization's schema itself (NOTES: a schema
set on the shared connection in one call leaks into another caller's).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django_tenants.utils import schema_context

from apps.chat import services
from apps.chat.llm import LLMUnavailable, StreamStats, chat_model
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.sql import read_on_live_connection
from apps.tenants.selectors import organization_for_schema

logger = logging.getLogger(__name__)

# Pieces shorter than this wait for more (up to FLUSH_INTERVAL) so a reply is not hundreds of frames.
COALESCE_CHARS = 24
FLUSH_INTERVAL = 0.03
UNAVAILABLE_DETAIL = "The assistant is unavailable right now. Please try again in a moment."


@database_sync_to_async
def _prepare(
    schema: str, conversation_id: int, text: str, client_id: str, guard: Callable[[], None] | None
) -> services.TurnPrep:
    if guard is not None:
        guard()  # in this same thread hop: a turn pays for one hop before the model is asked, not two

    def read() -> services.TurnPrep:
        with schema_context(schema):
            organization = organization_for_schema(schema)
            if organization is None:
                raise ApplicationError(ErrorCode.NOT_FOUND, "This organization no longer exists.")
            return services.chat_turn_prepare(
                organization=organization,
                conversation_id=conversation_id,
                text=text,
                client_id=client_id,
                max_chars=settings.CHAT_MAX_MESSAGE_CHARS,
            )

    # Only reads: no health check round trip first (a dead connection is found by the read itself).
    return read_on_live_connection(read)


@database_sync_to_async
def _record(schema: str, prep: services.TurnPrep) -> services.TurnPlan:
    with schema_context(schema):
        return services.chat_turn_record(prep=prep)


@database_sync_to_async
def _finish(schema: str, plan: services.TurnPlan, text: str, stats: StreamStats, partial: bool, latency_ms):
    with schema_context(schema):
        return services.chat_turn_finish(plan=plan, text=text, stats=stats, partial=partial, latency_ms=latency_ms)


async def chat_turn(
    *, schema: str, conversation_id: int, text: str, client_id: str = "", guard: Callable[[], None] | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Frames of one turn: `delta`s then `done`, or an `error`; nothing when a person is answering.

    `guard` (sync, e.g. a rate limit) runs first and refuses the turn by raising ApplicationError.
    The model is asked as soon as the prompt is ready; the visitor's message, lead and events are
    written while it thinks, and the first delta waits for them (it carries the reply's id).
    """
    try:
        prep = await _prepare(schema, conversation_id, text, client_id, guard)
    except ApplicationError as exc:
        yield {"type": "error", "code": exc.code, "detail": exc.detail}
        return
    if not prep.ai or prep.error_code:
        await _record(schema, prep)
        if prep.error_code:
            yield {"type": "error", "code": prep.error_code, "detail": prep.error_detail}
        return

    # The rows are written while the model thinks, but only once the request has left: their Python
    # work would otherwise hold the GIL while the event loop builds and sends the request.
    recording: asyncio.Future | None = None

    def record_start() -> None:
        nonlocal recording
        if recording is None:
            recording = asyncio.ensure_future(_record(schema, prep))

    async def recorded() -> services.TurnPlan:
        record_start()
        return await asyncio.shield(recording)

    stats = StreamStats()
    pieces: list[str] = []
    pending: list[str] = []
    started = time.monotonic()
    last_flush = 0.0
    latency_ms: int | None = None
    plan: services.TurnPlan | None = None
    try:
        async for piece in chat_model().stream(prep.context, stats, on_sent=record_start):
            if plan is None:
                latency_ms = int((time.monotonic() - started) * 1000)
                plan = await recorded()
            pieces.append(piece)
            pending.append(piece)
            now = time.monotonic()
            # The first piece goes at once (time to first token); later ones are coalesced.
            if last_flush == 0.0 or sum(map(len, pending)) >= COALESCE_CHARS or now - last_flush >= FLUSH_INTERVAL:
                yield {"type": "delta", "message_id": plan.reply_message_id, "text": "".join(pending)}
                pending.clear()
                last_flush = now
        plan = plan or await recorded()
        if pending:
            yield {"type": "delta", "message_id": plan.reply_message_id, "text": "".join(pending)}
            pending.clear()
    except LLMUnavailable as exc:
        logger.warning("chat model unavailable in %s: %s", schema, exc)
        plan = plan or await recorded()
        if pending:
            yield {"type": "delta", "message_id": plan.reply_message_id, "text": "".join(pending)}
        await _finish(schema, plan, "".join(pieces), stats, True, latency_ms)
        yield {"type": "error", "code": "unavailable", "detail": UNAVAILABLE_DETAIL}
        return
    except (asyncio.CancelledError, GeneratorExit):
        # The socket closed mid-stream: the visitor's message is stored all the same, and the reply
        # keeps what was generated, marked partial.
        plan = plan or await recorded()
        await asyncio.shield(_finish(schema, plan, "".join(pieces), stats, True, latency_ms))
        raise
    finally:
        if recording is None or not recording.done():
            # The model failed in a way we don't handle: still store the visitor's message.
            await recorded()

    message, cited = await _finish(schema, plan, "".join(pieces), stats, False, latency_ms)
    frame: dict[str, Any] = {
        "type": "done",
        "message_id": message.pk,
        "text": message.text,
        "citations": [services.citation_data(listing) for listing in cited],
    }
    if client_id:
        frame["client_id"] = client_id
    yield frame


def chat_turn_run(*, schema: str, conversation_id: int, text: str, client_id: str = "") -> dict[str, Any] | None:
    """Run a whole turn from synchronous code (a job) and return its final frame: `done`, `error`, or None
    when a person is answering the conversation.
    """
    from asgiref.sync import async_to_sync

    async def run() -> dict[str, Any] | None:
        final = None
        async for frame in chat_turn(schema=schema, conversation_id=conversation_id, text=text, client_id=client_id):
            if frame["type"] in ("done", "error"):
                final = frame
        return final

    return async_to_sync(run)()
