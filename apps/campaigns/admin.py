"""Admin of email follow-up: campaigns with their steps, enrollments, the message log and suppressions."""

from django.contrib import admin

from apps.campaigns.models import Campaign, CampaignStep, Enrollment, MessageLog, Suppression


class CampaignStepInline(admin.TabularInline):
    model = CampaignStep
    extra = 0
    fields = ["order", "delay_days", "subject", "body"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "trigger", "status", "created_at"]
    list_filter = ["kind", "trigger", "status"]
    inlines = [CampaignStepInline]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["lead", "campaign", "status", "stop_reason", "last_step_order", "next_send_at"]
    list_filter = ["status", "stop_reason"]
    raw_id_fields = ["lead", "campaign"]


@admin.register(MessageLog)
class MessageLogAdmin(admin.ModelAdmin):
    list_display = ["to", "subject", "status", "campaign", "created_at"]
    list_filter = ["status"]
    search_fields = ["to", "provider_message_id"]
    raw_id_fields = ["lead", "campaign", "step"]


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    raw_id_fields = ["message_log"]
