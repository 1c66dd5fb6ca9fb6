"""Admin of plans and subscriptions."""

from django.contrib import admin

from apps.billing.models import Plan, Subscription


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "monthly_price_cents", "stripe_price_id")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("organization", "plan", "status", "trial_ends_at", "current_period_end")
    list_filter = ("status", "plan")
    list_select_related = ("organization", "plan")
