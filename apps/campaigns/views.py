"""Public-host views of email follow-up: the provider's tracking webhook and the one-click unsubscribe page."""

from __future__ import annotations

from anymail.exceptions import AnymailConfigurationError, AnymailWebhookValidationFailure
from anymail.webhooks.postmark import PostmarkTrackingWebhookView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.accounts.decorators import public_route
from apps.campaigns.services import unsubscribe_apply, unsubscribe_target
from apps.core.errors import ApplicationError


class TrackingWebhookView(PostmarkTrackingWebhookView):
    """Anymail's Postmark tracking webhook (basic auth), which refuses every call while no secret is set.

    Anymail alone only warns and accepts anyone when ANYMAIL_WEBHOOK_SECRET is empty; a forged
    "bounced" event would then suppress any address. Events reach apps.campaigns through anymail's
    `tracking` signal.
    """

    warn_if_no_basic_auth = False

    def validate_request(self, request):
        if not self.basic_auth:
            raise AnymailWebhookValidationFailure("The tracking webhook is not configured (ANYMAIL_WEBHOOK_SECRET).")

    def parse_events(self, request):
        # Anymail's parser raises whatever a body that is no tracking event makes it raise (no JSON, an array,
        # "Metadata": null, a bad date, an inbound message): a 500, which Postmark retries for hours.
        # Refused as a bad request (400) instead, which it does not.
        try:
            return super().parse_events(request)
        except (ValueError, TypeError, AttributeError, KeyError, RecursionError, AnymailConfigurationError) as exc:
            raise AnymailWebhookValidationFailure(f"Not a Postmark tracking event: {exc!r}"[:300]) from None


# The provider is the caller: the webhook's basic-auth credentials are the access check.
tracking_webhook = public_route(TrackingWebhookView.as_view())


def _masked(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * max(1, len(local) - 1)}@{domain}"


def _error_page(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return render(request, "campaigns/unsubscribe.html", {"error": exc.detail}, status=exc.status_code)


@public_route  # anyone holding a signed link may use it: the signature is the access check
@csrf_exempt  # mailbox providers POST the one-click request (RFC 8058) without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a page with one button (link scanners fetch GETs: they must change nothing); POST unsubscribes."""
    try:
        if request.method == "POST":
            target, _ = unsubscribe_apply(token=token)
        else:
            target = unsubscribe_target(token=token)
    except ApplicationError as exc:
        return _error_page(request, exc)
    context = {
        "organization": target.organization,
        "email": _masked(target.email),
        "done": request.method == "POST",
    }
    response = render(request, "campaigns/unsubscribe.html", context)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
