"""Leads of an organization, their status changes and merge log (tenant schema)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    UNQUALIFIED = "unqualified", "Unqualified"
    WON = "won", "Won"
    LOST = "lost", "Lost"


class LeadSource(models.TextChoices):
    CHAT = "chat", "Website chat"
    FACEBOOK = "facebook", "Facebook Messenger"
    INSTAGRAM = "instagram", "Instagram Direct"
    API = "api", "API"
    IMPORT = "import", "Import"
    FORM = "form", "Form"


def _user_reference(**kwargs) -> models.ForeignKey:
    # Users live in the public schema. No database constraint and DO_NOTHING: deleting a user runs in
    # the public schema, where Django's cascade collector could not reach this tenant table.
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        **kwargs,
    )


class Lead(models.Model):
    name = models.CharField(max_length=200, blank=True, default="")
    # Normalized: lower case; phone in E.164. Empty when unknown (never NULL), unique when known.
    email = models.EmailField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="")
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.API)
    score = models.PositiveSmallIntegerField(default=0)
    # budget_min, budget_max, areas, property_type, bedrooms, timeline, financing, … (merged, never lost)
    attributes = models.JSONField(default=dict, blank=True)
    owner = _user_reference()
    # The conversation the lead came from. A plain id until the chat app's Conversation model exists;
    # its migration can turn this column into a foreign key without moving data.
    conversation_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="lead_status_created_idx"),
            models.Index(fields=["source"], name="lead_source_idx"),
            models.Index(fields=["-created_at"], name="lead_created_idx"),
            models.Index(fields=["conversation_id"], name="lead_conversation_idx"),
        ]
        constraints = [
            # One lead per address and per number: concurrent captures of the same person cannot
            # create two leads (the loser of the race merges instead). These also index email/phone.
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="lead_unique_email"),
            models.UniqueConstraint(fields=["phone"], condition=~Q(phone=""), name="lead_unique_phone"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"lead {self.pk}"


class LeadStatusChange(models.Model):
    """One move of a lead through the pipeline: who or what moved it, from where to where, when."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=LeadStatus.choices)
    to_status = models.CharField(max_length=20, choices=LeadStatus.choices)
    changed_by = _user_reference()
    # "score" when the lead qualified itself by its score, else "api"/"dashboard"/… of the caller.
    reason = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_status} → {self.to_status}"


class LeadMerge(models.Model):
    """The merge log: what a later capture of the same person brought and which earlier values it replaced."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="merges")
    source = models.CharField(max_length=20, choices=LeadSource.choices)
    # What matched the existing lead: "email", "phone" or "conversation".
    matched_on = models.CharField(max_length=20)
    # The capture as it came in: name, email, phone, attributes.
    incoming = models.JSONField(default=dict)
    # Each field or attribute whose value changed, with the value it had before: {"budget_max": 400000}.
    previous = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"merge into {self.lead_id} on {self.matched_on}"
