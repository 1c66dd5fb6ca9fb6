"""Email follow-up (tenant schema): campaigns and their steps, enrollments, the message log and suppressions."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q


class CampaignKind(models.TextChoices):
    SEQUENCE = "sequence", "Sequence"
    BLAST = "blast", "Blast"


class CampaignTrigger(models.TextChoices):
    LEAD_CREATED = "lead_created", "A lead is created"
    MANUAL = "manual", "Sent by hand"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


# The key of the sequence the platform writes for every organization (see services.welcome_sequence_ensure).
WELCOME_KEY = "welcome"


class Campaign(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=CampaignKind.choices, default=CampaignKind.SEQUENCE)
    trigger = models.CharField(max_length=20, choices=CampaignTrigger.choices, default=CampaignTrigger.MANUAL)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # "welcome" for the platform's default sequence; empty for the ones admins create.
    key = models.CharField(max_length=30, blank=True, default="")
    # Blasts go out in batches: the next batch may not start before this (the send rate limit).
    next_batch_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="campaign_unique_key")]

    def __str__(self) -> str:
        return self.name


class CampaignStep(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveIntegerField()
    # Day of the sequence this step is for (0: at once). A step waits its difference in days from the
    # step before it after that one went out, so a late send never bunches the next ones up.
    delay_days = models.PositiveIntegerField(default=0)
    # Django template syntax with `lead`, `organization` and `listings` (the lead's recommended listings).
    subject = models.CharField(max_length=300)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "order"], name="campaign_step_unique_order")]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.order} {self.subject}"


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    STOPPED = "stopped", "Stopped"


class StopReason(models.TextChoices):
    SUPPRESSED = "suppressed", "The address is suppressed"
    UNSUBSCRIBED = "unsubscribed", "The lead unsubscribed"
    BOUNCED = "bounced", "The address bounced"
    COMPLAINED = "complained", "The lead complained"
    STATUS = "status", "The lead was marked won, lost or unqualified"
    REPLIED = "replied", "The lead answered in chat"


class Enrollment(models.Model):
    """One lead going through one campaign: which step went out last and when the next one is due."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE)
    stop_reason = models.CharField(max_length=20, choices=StopReason.choices, blank=True, default="")
    # The order of the last step sent (null: none yet); the next step is the first with a greater order.
    last_step_order = models.PositiveIntegerField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    next_send_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["lead", "campaign"], name="enrollment_unique_lead_campaign")]
        indexes = [
            # The scheduler's question: which active enrollments are due?
            models.Index(fields=["next_send_at"], condition=Q(status="active"), name="enrollment_due_idx"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} in campaign {self.campaign_id} ({self.status})"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"  # written, not handed to the provider yet
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    BOUNCED = "bounced", "Bounced"
    COMPLAINED = "complained", "Complained"
    FAILED = "failed", "Failed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class MessageLog(models.Model):
    """One mail to one lead. Written before the send: its (lead, step) key makes a retried job send nothing twice."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="message_logs")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="message_logs"
    )
    step = models.ForeignKey(
        CampaignStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="message_logs"
    )
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300)
    # The listings this mail recommended: a later step of the sequence recommends others first.
    listing_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    status = models.CharField(max_length=15, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    provider_message_id = models.CharField(max_length=100, blank=True, default="")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The idempotency key: one mail per lead and step, whatever retries or parallel runs do.
            models.UniqueConstraint(fields=["lead", "step"], name="message_log_once_per_lead_step"),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="message_log_status_idx"),
            models.Index(fields=["-created_at"], name="message_log_created_idx"),
            models.Index(fields=["provider_message_id"], name="message_log_provider_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject} ({self.status})"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Hard bounce"
    COMPLAINED = "complained", "Spam complaint"
    MANUAL = "manual", "Added by hand"


class Suppression(models.Model):
    """An address the organization never mails again."""

    email = models.EmailField(max_length=254, unique=True)  # lower case, like leads' emails
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    message_log = models.ForeignKey(MessageLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class EmailSetup(models.Model):
    """What the platform set up once for this organization (one row): a deleted welcome sequence stays deleted."""

    welcome_sequence_created_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "email setup"
