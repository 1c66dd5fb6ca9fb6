"""System checks of webhook settings that would otherwise fail only at delivery time."""

from __future__ import annotations

import binascii

from django.conf import settings
from django.core import checks

from apps.webhooks.signing import SECRET_PREFIX, secret_key


@checks.register()
def webhook_settings(app_configs=None, **kwargs):
    problems = []
    secret = settings.WEBHOOK_SIGNING_SECRET
    if settings.N8N_WEBHOOK_URL and not secret:
        problems.append(
            checks.Warning(
                "N8N_WEBHOOK_URL is set but WEBHOOK_SIGNING_SECRET is empty: its deliveries go unsigned.",
                hint="Set WEBHOOK_SIGNING_SECRET to a whsec_… secret.",
                id="webhooks.W001",
            )
        )
    if secret:
        try:
            valid = secret.startswith(SECRET_PREFIX) and bool(secret_key(secret))
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            problems.append(
                checks.Error(
                    "WEBHOOK_SIGNING_SECRET is not a Standard Webhooks secret (whsec_ followed by base64).",
                    id="webhooks.E001",
                )
            )
    if not settings.WEBHOOK_RETRY_SCHEDULE or min(settings.WEBHOOK_RETRY_SCHEDULE) < 0:
        problems.append(
            checks.Error("WEBHOOK_RETRY_SCHEDULE needs at least one delay, each ≥ 0 seconds.", id="webhooks.E002")
        )
    return problems
