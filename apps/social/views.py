"""Meta's webhooks on the public host: GET (verification handshake) and POST /webhook/facebook|instagram/."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.accounts.decorators import public_route
from apps.core.errors import error_body
from apps.core.text import json_parse, json_storable
from apps.social.services import meta_webhook_receive

SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_valid(body: bytes, header: str | None) -> bool:
    """`sha256=<hex HMAC-SHA256 of the raw body with FACEBOOK_APP_SECRET>`, compared in constant time."""
    secret = settings.FACEBOOK_APP_SECRET
    if not secret or not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


def _forbidden(detail: str) -> JsonResponse:
    return JsonResponse(error_body("client_error", "permission_denied", detail), status=403)


def _handshake(request: HttpRequest) -> HttpResponse:
    token = settings.FACEBOOK_VERIFY_TOKEN
    given = request.GET.get("hub.verify_token", "")
    if request.GET.get("hub.mode") == "subscribe" and token and hmac.compare_digest(token.encode(), given.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return _forbidden("The verification token does not match.")


@public_route  # Meta is the caller: the verify token and the X-Hub-Signature-256 header are the access check
@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request: HttpRequest, platform: str) -> HttpResponse:
    if request.method == "GET":
        return _handshake(request)
    body = request.body  # the raw bytes: the signature covers them, not a re-encoding
    if not signature_valid(body, request.headers.get(SIGNATURE_HEADER)):
        return _forbidden("Missing or invalid X-Hub-Signature-256.")
    try:
        payload = json_parse(body)
    except ValueError:
        return JsonResponse(error_body("client_error", "invalid", "The body is not JSON."), status=400)
    if not json_storable(payload):  # Meta sends text; a NUL here is no Messenger event
        return JsonResponse(error_body("client_error", "invalid", "The body holds no storable text."), status=400)
    # Stores and queues only: the assistant runs in a job, so Meta gets its 200 at once.
    queued = meta_webhook_receive(payload=payload)
    return JsonResponse({"received": True, "queued": queued})
