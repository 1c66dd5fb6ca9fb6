"""Views every host shares: health check and the error pages (JSON under /api/, HTML elsewhere)."""

from __future__ import annotations

import asyncio
import logging
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from apps.accounts.decorators import public_route
from apps.core.errors import error_body

logger = logging.getLogger(__name__)

HEALTHZ_CHECK_SECONDS = 3.0


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        return "error: no channel layer configured"

    async def round_trip() -> str:
        # A real send/receive proves the layer (Redis or in-memory) carries messages.
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz.ping", "token": token})
        message = await layer.receive(channel)
        return "ok" if message.get("token") == token else "error: message lost"

    async def bounded() -> str:
        # A Redis that accepts and never answers held /healthz for the layer's 30 s socket timeout: a
        # load balancer gives up first and learns nothing.
        try:
            return await asyncio.wait_for(round_trip(), HEALTHZ_CHECK_SECONDS)
        except TimeoutError:
            return f"error: no answer within {HEALTHZ_CHECK_SECONDS:g} s"

    return async_to_sync(bounded)()


@public_route
def healthz(request: HttpRequest) -> JsonResponse:
    body: dict[str, str] = {"status": "ok"}
    for part, check in (("database", _check_database), ("channel_layer", _check_channel_layer)):
        try:
            body[part] = check()
        except Exception as exc:  # the point is to report any failure, whatever it is
            logger.warning("healthz: %s failed: %s", part, exc)
            body[part] = f"error: {exc.__class__.__name__}"
    failing = [part for part, value in body.items() if part != "status" and value != "ok"]
    if failing:
        body["status"] = "error"
    return JsonResponse(body, status=503 if failing else 200)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("client_error", "not_found", "Not found."), status=404)
    return render(request, "core/404.html", {"path": request.path}, status=404)


@public_route
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any /api/ path no route claims: the contract's JSON 404, with DEBUG too (Django's is an HTML page then)."""
    return page_not_found(request)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("server_error", "error", "Server Error (500)"), status=500)
    return render(request, "core/500.html", status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("client_error", "bad_request", "Bad request."), status=400)
    return HttpResponse("Bad request", status=400, content_type="text/plain")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("client_error", "permission_denied", "Permission denied."), status=403)
    return render(request, "core/403.html", status=403)


@public_route
def api_on_public_host(request: HttpRequest) -> JsonResponse:
    detail = (
        "The REST API is served on your organization's host, "
        f"https://<slug>.{settings.BASE_DOMAIN}/api/v1/ ; this host has no organization."
    )
    response = JsonResponse(error_body("client_error", "not_authenticated", detail), status=401)
    response["WWW-Authenticate"] = "Api-Key"
    return response


@public_route
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"base_domain": settings.BASE_DOMAIN})
