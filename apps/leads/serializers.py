"""How a lead reads and writes over the API; event payloads use the same output, so both show one lead."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from rest_framework import serializers

from apps.accounts.models import User
from apps.core.text import UNSTORABLE_TEXT, json_storable
from apps.leads.models import Lead, LeadSource, LeadStatus


class LeadSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True, help_text="User id")
    conversation = serializers.IntegerField(
        source="conversation_id", read_only=True, allow_null=True, help_text="Conversation id"
    )

    class Meta:
        model = Lead
        fields = [
            "id", "name", "email", "phone", "status", "source", "score", "attributes", "owner", "conversation",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


def lead_data(lead: Lead) -> dict[str, Any]:
    """The lead as the API shows it, as plain JSON values (what events carry under "lead")."""
    return dict(LeadSerializer(lead).data)


# What one request may add to a lead's attributes: a CRM's fields, not a document store. Every merge keeps
# the earlier values (the merge log), so an unbounded write would grow the lead with every capture.
MAX_ATTRIBUTE_KEYS = 50
MAX_ATTRIBUTE_KEY_CHARS = 100
MAX_ATTRIBUTES_BYTES = 16 * 1024


class _AttributesField(serializers.DictField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            "budget_min, budget_max, areas (list), property_type, bedrooms, timeline, financing, … "
            f"(any keys; merged with what the lead had; at most {MAX_ATTRIBUTE_KEYS} keys and "
            f"{MAX_ATTRIBUTES_BYTES // 1024} KB of JSON)",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not json_storable(value):
            raise serializers.ValidationError(
                f"Attribute names and values {UNSTORABLE_TEXT}, and numbers must be finite."
            )
        if len(value) > MAX_ATTRIBUTE_KEYS:
            raise serializers.ValidationError(f"At most {MAX_ATTRIBUTE_KEYS} attributes at a time.")
        if long := next((key for key in value if len(key) > MAX_ATTRIBUTE_KEY_CHARS), None):
            raise serializers.ValidationError(
                f"Attribute names have at most {MAX_ATTRIBUTE_KEY_CHARS} characters ({long[:20]}… has {len(long)})."
            )
        if len(json.dumps(value, cls=DjangoJSONEncoder).encode()) > MAX_ATTRIBUTES_BYTES:
            raise serializers.ValidationError(f"Attributes take at most {MAX_ATTRIBUTES_BYTES // 1024} KB of JSON.")
        return value


class LeadCreateSerializer(serializers.Serializer):
    """A capture: an email or phone already known to the organization merges into that lead."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    # Validated and normalized by the service (lower-case email, E.164 phone), which owns the one error path.
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, allow_null=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, allow_null=True, default="")
    source = serializers.ChoiceField(choices=LeadSource.choices, default=LeadSource.API)
    attributes = _AttributesField(required=False, default=dict)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    conversation = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class LeadUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    attributes = _AttributesField(
        required=False,
        help_text="Merged into the lead's attributes (JSON merge patch: a key set to null is removed).",
    )
