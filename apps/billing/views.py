"""Stripe's webhook on the public host: POST /webhook/stripe/."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.accounts.decorators import public_route
from apps.billing.services import stripe_webhook_receive
from apps.core.errors import ApplicationError, error_body


@public_route  # Stripe is the caller: the Stripe-Signature header is the access check
@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        processed = stripe_webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature"))
    except ApplicationError as exc:
        # 400: bad signature, Stripe will not retry; 503: Stripe unreadable now, Stripe retries later.
        type_ = "server_error" if exc.status_code >= 500 else "client_error"
        return JsonResponse(error_body(type_, exc.code, exc.detail, exc.attr), status=exc.status_code)
    return JsonResponse({"received": True, "duplicate": not processed})
