"""Plans with their entitlements, and each organization's subscription (public schema)."""

from __future__ import annotations

from django.db import models


class Entitlement(models.TextChoices):
    LISTINGS = "listings", "Listings"
    AI_REPLIES = "ai_replies_per_month", "AI replies a month"
    CHANNELS = "channels", "Connected channels"
    SEATS = "seats", "Seats"
    CAMPAIGNS = "campaigns", "Email campaigns"
    WEBHOOK_ENDPOINTS = "webhook_endpoints", "Webhook endpoints"


class Plan(models.Model):
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=60)
    monthly_price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    stripe_price_id = models.CharField(max_length=100, blank=True, default="")
    # {entitlement: limit}; a missing key or null means unlimited.
    entitlements = models.JSONField(default=dict)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]

    def __str__(self) -> str:
        return self.name

    def limit(self, key: str) -> int | None:
        value = self.entitlements.get(key)
        return None if value is None else int(value)


class SubscriptionStatus(models.TextChoices):
    TRIALING = "trialing", "Trialing"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"


class Subscription(models.Model):
    organization = models.OneToOneField("tenants.Organization", on_delete=models.CASCADE, related_name="subscription")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.TRIALING)
    trial_ends_at = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=100, blank=True, default="")
    stripe_subscription_id = models.CharField(max_length=100, blank=True, default="")
    # When the subscription last became past_due: the grace period of BILLING_GRACE_DAYS runs from here.
    past_due_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organization.slug}: {self.plan.code} ({self.status})"


class ProcessedStripeEvent(models.Model):
    """A Stripe webhook event already handled: Stripe delivers at least once, we act at most once."""

    id = models.CharField(max_length=255, primary_key=True)
    type = models.CharField(max_length=100)
    # The event's `created` (Stripe's clock), kept to trace the order events were sent in.
    stripe_created_at = models.DateTimeField(null=True, blank=True)
    organization = models.ForeignKey(
        "tenants.Organization", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    processed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-processed_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"
