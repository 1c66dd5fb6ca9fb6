"""Outgoing webhooks (tenant schema): endpoints, the delivery outbox and the log of each attempt."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

ALL_EVENTS = "*"
# The type of the test ping (`POST webhook-endpoints/<id>/test/`): not an event of the log.
PING_EVENT_TYPE = "webhook.test"


class WebhookEndpoint(models.Model):
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=300, blank=True, default="")
    # Event types this endpoint hears, or ["*"] for every type.
    event_types = ArrayField(models.CharField(max_length=50), default=list)
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    # Newest first: [{"secret": "whsec_…", "expires_at": ISO 8601 or null}]. After a rotation the
    # previous secret keeps signing until it expires, so receivers can switch without a gap.
    # Stored readable (not hashed): every delivery is signed with it.
    secrets = models.JSONField(default=list)
    # Start of the current run of failures (null after a success): 5 days of it disables the endpoint.
    failing_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def subscribes_to(self, event_type: str) -> bool:
        return ALL_EVENTS in self.event_types or event_type in self.event_types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # not tried yet (or replayed)
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"  # the last try failed; another is scheduled at next_attempt_at
    DEAD = "dead", "Dead"  # no more tries (schedule exhausted, 410, endpoint disabled); replay revives it


# Deliveries that still have a try ahead of them.
OUTSTANDING = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class WebhookDelivery(models.Model):
    """One event to one endpoint: the outbox row, written in the transaction of the change."""

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_deliveries"
    )  # null for a test ping
    # null: the platform-wide N8N_WEBHOOK_URL, which every organization delivers to.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    event_type = models.CharField(max_length=50)
    # The Standard Webhooks `webhook-id`: the same on every try and every replay.
    webhook_id = models.CharField(max_length=64, db_index=True)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # attempt_count when the delivery was last replayed: the retry schedule restarts there.
    schedule_offset = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # When the sweep last re-queued it: a delivery stuck behind a slow queue gets one extra message
    # per sweep grace period, not one per sweep.
    requeued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's question: which outstanding deliveries are due?
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status__in=["pending", "failed"]),
            ),
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
            models.Index(fields=["status", "-created_at"], name="webhook_delivery_status_idx"),
        ]
        constraints = [
            # One delivery per event and destination (the platform endpoint included: NULLs equal).
            models.UniqueConstraint(
                fields=["event", "endpoint"],
                condition=models.Q(event__isnull=False),
                nulls_distinct=False,
                name="webhook_delivery_event_endpoint_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} → {self.endpoint_id or 'platform'} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery and what came back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    request_headers = models.JSONField(default=dict)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    response_body = models.TextField(blank=True, default="")  # an excerpt, never the whole body
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.delivery_id}: {self.status_code or self.error}"
