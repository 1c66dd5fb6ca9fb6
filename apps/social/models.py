"""Connected Meta accounts, the threads they carry, and the once-only ledgers of messages in and out (tenant schema)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.socialrouting.models import Platform


class AccountStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    # Disconnected by a member, or Meta revoked the token (status_detail says which and what to do).
    DISCONNECTED = "disconnected", "Disconnected"


class DisconnectReason(models.TextChoices):
    NONE = "", "—"
    MEMBER = "member", "Disconnected by a member"
    TOKEN_REVOKED = "token_revoked", "Meta revoked the access token"


class SocialAccount(models.Model):
    platform = models.CharField(max_length=20, choices=Platform.choices)
    # The id webhooks carry in entry[].id: the page id (Messenger) or the Instagram professional account id.
    external_id = models.CharField(max_length=64)
    # The Facebook page the Send API posts through (for Instagram: the page linked to the account).
    page_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True, default="")
    # Fernet ciphertext (apps/social/crypto.py), never the token itself; "" once disconnected.
    access_token_encrypted = models.TextField(db_column="access_token", blank=True, default="")
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.CONNECTED)
    disconnect_reason = models.CharField(max_length=20, choices=DisconnectReason.choices, blank=True, default="")
    # What the dashboard shows next to a disconnected account (why, and what to do).
    status_detail = models.CharField(max_length=300, blank=True, default="")
    # Users live in the public schema: no database constraint (see apps.leads.models._user_reference).
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="social_account_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.name or self.external_id}"


class SocialThread(models.Model):
    """One person writing to one connected account: their scoped id, name, and when they last wrote."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="threads")
    # The page-scoped id (PSID) or Instagram-scoped id (IGSID) of the person.
    visitor_id = models.CharField(max_length=100)
    # Their latest conversation (a closed one is followed by a new one, see conversation_for_visitor).
    conversation = models.ForeignKey(
        "chat.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    profile_name = models.CharField(max_length=200, blank=True, default="")
    # Meta's timestamp of the person's latest message: the 24-hour messaging window runs from here.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "visitor_id"], name="social_thread_unique_visitor"),
        ]
        indexes = [models.Index(fields=["visitor_id"], name="social_thread_visitor_idx")]

    def __str__(self) -> str:
        return f"{self.account} ← {self.visitor_id}"


class Direction(models.TextChoices):
    IN = "in", "From the person"
    OUT = "out", "From the page"


class SeenStatus(models.TextChoices):
    PROCESSING = "processing", "Being handled"
    RECEIVED = "received", "Waiting for a retry"
    DONE = "done", "Handled"


class SeenMessage(models.Model):
    """Every Meta message id handled (webhook) or imported (sync) here: the unique mid makes it count once."""

    mid = models.CharField(max_length=255, unique=True)
    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(SocialThread, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.IN)
    # The public InboundEvent that claimed it (none for imported history).
    event_id = models.BigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=SeenStatus.choices, default=SeenStatus.PROCESSING)
    outcome = models.CharField(max_length=40, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.mid} ({self.status})"


class OutboundKind(models.TextChoices):
    REPLY = "reply", "Assistant reply"
    NOTICE = "notice", "Assistant notice"  # the polite plan-limit / unavailable message
    AGENT = "agent", "Agent reply"


class OutboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent (outside the messaging window)"
    FAILED = "failed", "Failed"


class OutboundMessage(models.Model):
    """One reply going out through the Send API, split into chunks; progress survives retries."""

    account = models.ForeignKey(SocialAccount, on_delete=models.CASCADE, related_name="+")
    thread = models.ForeignKey(SocialThread, on_delete=models.CASCADE, related_name="outbound")
    kind = models.CharField(max_length=10, choices=OutboundKind.choices)
    # The chat message it carries (none for a notice, which is not stored in the conversation).
    message = models.ForeignKey("chat.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    chunks_sent = models.PositiveSmallIntegerField(default=0)
    graph_message_ids = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # A chat message goes out once, however many times its event hook or job runs.
            models.UniqueConstraint(fields=["message"], condition=Q(message__isnull=False), name="outbound_once"),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="outbound_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.thread_id} ({self.status})"
