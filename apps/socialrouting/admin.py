"""Admin of the Meta routing table and the raw webhook events (read-mostly, for support)."""

from django.contrib import admin

from apps.socialrouting.models import InboundEvent, SocialRoute


@admin.register(SocialRoute)
class SocialRouteAdmin(admin.ModelAdmin):
    list_display = ["platform", "external_id", "organization", "created_at"]
    list_filter = ["platform"]
    search_fields = ["external_id", "organization__slug"]


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["id", "platform", "external_id", "organization", "kind", "mid", "received_at", "outcome"]
    list_filter = ["platform", "kind", "outcome"]
    search_fields = ["mid", "external_id"]
    readonly_fields = [field.name for field in InboundEvent._meta.fields]
