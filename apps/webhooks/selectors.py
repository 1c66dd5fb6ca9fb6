"""Reads of webhook endpoints and deliveries (current tenant schema)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def webhook_endpoint_get(*, endpoint_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(pk=endpoint_id).first()


def webhook_endpoint_count() -> int:
    return WebhookEndpoint.objects.count()


def webhook_endpoint_active_secrets(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """Secrets that sign right now: the current one, and a rotated-out one until it expires."""
    now = now or timezone.now()
    active = []
    for entry in endpoint.secrets:
        expires_at = parse_datetime(entry["expires_at"]) if entry.get("expires_at") else None
        if expires_at is None or expires_at > now:
            active.append(entry["secret"])
    return active


def webhook_delivery_list(*, filters: dict | None = None) -> QuerySet[WebhookDelivery]:
    filters = filters or {}
    queryset = WebhookDelivery.objects.select_related("event").prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("created_at", "id"))
    )
    if filters.get("status"):
        queryset = queryset.filter(status=filters["status"])
    if filters.get("endpoint"):
        queryset = queryset.filter(endpoint_id=filters["endpoint"])
    return queryset


def webhook_delivery_get(*, delivery_id: int) -> WebhookDelivery | None:
    return webhook_delivery_list().filter(pk=delivery_id).first()
