"""POST /api/chat/ask on the public host: the same turn as the websocket, as JSON or as server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import get_public_schema_name, schema_context

from apps.accounts.decorators import public_route
from apps.chat import services
from apps.chat.turn import UNAVAILABLE_DETAIL, chat_turn
from apps.core.errors import error_body
from apps.core.ratelimit import rate_limits_hit, request_client_ip
from apps.core.text import UNSTORABLE_TEXT, json_parse, text_storable
from apps.tenants.models import Organization

logger = logging.getLogger(__name__)

STATUS_BY_ERROR = {"invalid": 400, "rate_limited": 429, "plan_limit": 403, "unavailable": 503}


def _bad(code: str, detail: str, attr: str | None = None, status: int = 400) -> JsonResponse:
    kind = "validation_error" if status == 400 else "client_error"
    return JsonResponse(error_body(kind, code, detail, attr), status=status)


def _parse(request: HttpRequest) -> tuple[dict | None, JsonResponse | None]:
    try:
        body = json_parse(request.body or b"{}")
    except ValueError:
        return None, _bad("parse_error", "The body is not valid JSON.")
    if not isinstance(body, dict):
        return None, _bad("invalid", "The body must be a JSON object.")
    for name in ("org", "message"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            return None, _bad("required", f"'{name}' is required (a non-empty string).", attr=name)
    if body.get("conversation") is not None and not isinstance(body["conversation"], str):
        return None, _bad("invalid", "'conversation' must be the token of an earlier answer.", attr="conversation")
    for name in ("org", "message", "conversation"):
        if isinstance(body.get(name), str) and not text_storable(body[name]):
            return None, _bad("invalid", f"'{name}' {UNSTORABLE_TEXT}.", attr=name)
    if len(body["message"]) > settings.CHAT_MAX_MESSAGE_CHARS:
        return None, _bad("max_length", f"At most {settings.CHAT_MAX_MESSAGE_CHARS} characters.", attr="message")
    return body, None


def _open(slug: str, token: str | None, origin: str, ip: str, host: str) -> tuple[dict | None, JsonResponse | None]:
    close_old_connections()
    with schema_context(get_public_schema_name()):
        organization = Organization.objects.filter(slug=slug.strip().lower()).exclude(schema_name="public").first()
    if organization is None:
        return None, _bad("not_found", f"No organization '{slug}'.", attr="org", status=404)
    if origin and not organization.origin_allowed(origin, host=host):
        return None, _bad("permission_denied", "This origin may not use the organization's chat.", status=403)
    with schema_context(organization.schema_name):
        conversation = services.conversation_open(token=token)
        wait = rate_limits_hit(
            [
                (f"{organization.schema_name}:conversation:{conversation.pk}", settings.CHAT_RATE_LIMIT_VISITOR),
                (f"ip:{ip}", settings.CHAT_RATE_LIMIT_IP),
            ]
        )
    if wait:
        response = _bad("rate_limited", f"Too many messages; try again in {wait} s.", status=429)
        response["Retry-After"] = str(wait)
        return None, response
    return {"schema": organization.schema_name, "id": conversation.pk, "token": conversation.token}, None


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


@csrf_exempt
@public_route
async def chat_ask(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _bad("method_not_allowed", "Use POST.", status=405)
    body, error = _parse(request)
    if error:
        return error
    ip = request_client_ip(request)
    opened, error = await database_sync_to_async(_open)(
        body["org"], body.get("conversation"), request.headers.get("Origin", ""), ip, request.get_host()
    )
    if error:
        return error
    turn = chat_turn(schema=opened["schema"], conversation_id=opened["id"], text=body["message"])

    if "text/event-stream" in request.headers.get("Accept", ""):

        async def stream() -> AsyncIterator[str]:
            yield _sse("conversation", {"type": "conversation", "conversation": opened["token"]})
            try:
                async for frame in turn:
                    if frame["type"] == "done":
                        frame = {**frame, "conversation": opened["token"]}
                    yield _sse(frame["type"], frame)
            except Exception:
                # The 200 is sent: the client learns of a failure from the stream, as the websocket's would.
                logger.exception("chat turn failed in %s", opened["schema"])
                yield _sse("error", {"type": "error", "code": "unavailable", "detail": UNAVAILABLE_DETAIL})

        response = StreamingHttpResponse(stream(), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # proxies must not hold the stream back
        return response

    done = None
    async for frame in turn:
        if frame["type"] == "error":
            kind = "validation_error" if frame["code"] == "invalid" else "client_error"
            if frame["code"] == "unavailable":
                kind = "server_error"
            return JsonResponse(
                {**error_body(kind, frame["code"], frame["detail"]), "conversation": opened["token"]},
                status=STATUS_BY_ERROR.get(frame["code"], 400),
            )
        if frame["type"] == "done":
            done = frame
    if done is None:
        # A person is answering this conversation: the assistant stays quiet.
        return JsonResponse({"conversation": opened["token"], "message_id": None, "text": "", "citations": []})
    return JsonResponse(
        {
            "conversation": opened["token"],
            "message_id": done["message_id"],
            "text": done["text"],
            "citations": done["citations"],
        }
    )
