"""How campaigns, steps and message logs read and write over the API; email events carry the same message log."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignStep,
    CampaignTrigger,
    MessageLog,
    MessageStatus,
)
from apps.leads.models import LeadSource, LeadStatus


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = ["id", "name", "kind", "trigger", "status"]
        read_only_fields = fields


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=CampaignKind.choices, default=CampaignKind.SEQUENCE)
    trigger = serializers.ChoiceField(
        choices=CampaignTrigger.choices,
        default=CampaignTrigger.MANUAL,
        help_text="lead_created: every new lead is enrolled while the sequence is active (sequences only).",
    )
    status = serializers.ChoiceField(choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)


class CampaignStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignStep
        fields = ["id", "order", "delay_days", "subject", "body"]
        read_only_fields = fields


_TEMPLATE_HELP = (
    "Django template syntax with `lead` (name, first_name, email, criteria, attributes), `organization` "
    "(name, persona_name, chat_url, …) and `listings` (title, price, place, url, …: listings matching the lead)."
)


class CampaignStepInputSerializer(serializers.Serializer):
    order = serializers.IntegerField(
        min_value=0, required=False, help_text="Position in the campaign; default: after the last step."
    )
    delay_days = serializers.IntegerField(min_value=0, max_value=3650, default=0, help_text="Day of the sequence")
    subject = serializers.CharField(max_length=300, help_text=_TEMPLATE_HELP)
    body = serializers.CharField(max_length=50_000, help_text=_TEMPLATE_HELP)


class LeadFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    source = serializers.ChoiceField(choices=LeadSource.choices, required=False)
    q = serializers.CharField(required=False, allow_blank=True, help_text="Text in the name or email")

    def to_internal_value(self, data):
        # A misspelt filter must not widen a blast to every lead: unknown keys are an error.
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: [f"Unknown filter; use {', '.join(self.fields)}."]})
        return super().to_internal_value(data)


class CampaignSendSerializer(serializers.Serializer):
    filter = LeadFilterSerializer(required=False, default=dict, help_text="Which leads; none: every lead")


class CampaignSendResultSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="Leads newly enrolled (each gets the campaign's mails once)")


class CampaignProgressSerializer(serializers.Serializer):
    enrolled = serializers.IntegerField()
    pending = serializers.IntegerField(help_text="Enrolled leads still waiting for a mail")
    completed = serializers.IntegerField()
    stopped = serializers.IntegerField(help_text="Left the campaign (unsubscribed, suppressed, status, replied)")
    sent = serializers.IntegerField(help_text="Mails handed to the provider")
    failed = serializers.IntegerField()
    next_batch_at = serializers.DateTimeField(allow_null=True, help_text="Blasts: when the next batch may go out")


class MessageLogSerializer(serializers.ModelSerializer):
    lead = serializers.IntegerField(source="lead_id", read_only=True)
    campaign = serializers.IntegerField(source="campaign_id", read_only=True, allow_null=True)
    step = serializers.IntegerField(source="step_id", read_only=True, allow_null=True)

    class Meta:
        model = MessageLog
        fields = ["id", "lead", "campaign", "step", "to", "subject", "status", "provider_message_id", "created_at"]
        read_only_fields = fields


class MessageLogFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False)
    lead = serializers.IntegerField(min_value=1, required=False)
    campaign = serializers.IntegerField(min_value=1, required=False)


def message_log_data(log: MessageLog) -> dict[str, Any]:
    """The message log as the API shows it, as plain JSON values (what email events carry)."""
    return dict(MessageLogSerializer(log).data)
