"""Public-schema half of the Meta channels: page/account id → organization, and each raw webhook event received."""

from __future__ import annotations

from django.db import models


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook Messenger"
    INSTAGRAM = "instagram", "Instagram Direct"


class SocialRoute(models.Model):
    """One page id (Messenger) or Instagram account id belongs to exactly one organization."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    # The id Meta puts in `entry[].id` of a webhook: the page id, or the Instagram professional account id.
    external_id = models.CharField(max_length=64)
    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="social_routes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="social_route_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.external_id} → {self.organization_id}"


class EventKind(models.TextChoices):
    MESSAGING = "messaging", "Messaging"
    # Sent while another app (a person in the Page Inbox, another bot) controls the thread.
    STANDBY = "standby", "Standby"


class InboundEvent(models.Model):
    """One item of a signed webhook (`entry[].messaging[]` or `standby[]`), stored before anything else happens.

    Kept in the public schema because the webhook arrives on the public host; the job that handles
    it runs in the organization's schema and marks it processed. The row is the replay source when
    a queued job is lost (see the sweep in apps.social.services).
    """

    platform = models.CharField(max_length=20, choices=Platform.choices)
    external_id = models.CharField(max_length=64)
    organization = models.ForeignKey("tenants.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=EventKind.choices, default=EventKind.MESSAGING)
    # `message.mid` when the item is a message (for tracing; the once-only rule lives in the tenant schema).
    mid = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            models.Index(fields=["organization", "processed_at", "received_at"], name="inbound_event_due_idx"),
            models.Index(fields=["mid"], name="inbound_event_mid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.kind} {self.mid or self.pk}"
