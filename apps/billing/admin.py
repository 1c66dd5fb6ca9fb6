"""Admin of plans and subscriptions."""

from django.contrib import admin

from apps.billing.models import Plan, ProcessedStripeEvent, Subscription


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "monthly_price_cents", "stripe_price_id")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("organization", "plan", "status", "trial_ends_at", "current_period_end", "past_due_since")
    list_filter = ("status", "plan")
    list_select_related = ("organization", "plan")


@admin.register(ProcessedStripeEvent)
class ProcessedStripeEventAdmin(admin.ModelAdmin):
    """Which Stripe events arrived and whose they were; read-only, Stripe's dashboard holds the bodies."""

    list_display = ("id", "type", "organization", "stripe_created_at", "processed_at")
    list_filter = ("type",)
    search_fields = ("id",)
    list_select_related = ("organization",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
