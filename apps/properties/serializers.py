"""How a listing reads and writes over the API; the import validates its rows with the same serializer."""

from __future__ import annotations

import contextlib
import decimal
import re

from rest_framework import serializers

from apps.properties.models import Property

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


class RoundedDecimalField(serializers.DecimalField):
    """A decimal that is rounded to the column's places instead of rejected (feeds carry 7-digit coordinates)."""

    def __init__(self, max_digits: int, decimal_places: int, **kwargs):
        kwargs.setdefault("coerce_to_string", False)  # numbers in JSON, not strings
        kwargs.setdefault("rounding", decimal.ROUND_HALF_UP)
        super().__init__(max_digits, decimal_places, **kwargs)

    def validate_precision(self, value: decimal.Decimal) -> decimal.Decimal:
        if value.is_finite():
            # More digits than the context holds (1e400) cannot be rounded: far too many, as the check below says.
            with contextlib.suppress(decimal.InvalidOperation):
                value = value.quantize(decimal.Decimal(1).scaleb(-self.decimal_places), rounding=self.rounding)
        return super().validate_precision(value)


class PropertySerializer(serializers.ModelSerializer):
    # external_id uniqueness is the service's to check (409 conflict, and upserts by it).
    external_id = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    price = RoundedDecimalField(14, 2, min_value=decimal.Decimal(0))
    currency = serializers.CharField(max_length=3, required=False, help_text="ISO 4217 code, e.g. USD")
    bathrooms = RoundedDecimalField(4, 1, min_value=decimal.Decimal(0), required=False, allow_null=True)
    area_sqm = RoundedDecimalField(10, 2, min_value=decimal.Decimal(0), required=False, allow_null=True)
    latitude = RoundedDecimalField(
        9, 6, min_value=decimal.Decimal(-90), max_value=decimal.Decimal(90), required=False, allow_null=True
    )
    longitude = RoundedDecimalField(
        9, 6, min_value=decimal.Decimal(-180), max_value=decimal.Decimal(180), required=False, allow_null=True
    )
    features = serializers.ListField(child=serializers.CharField(max_length=60), required=False)
    images = serializers.ListField(child=serializers.URLField(max_length=500), required=False)

    class Meta:
        model = Property
        fields = [
            "id", "external_id", "title", "description", "property_type", "listing_type", "price", "currency",
            "bedrooms", "bathrooms", "area_sqm", "address", "neighborhood", "city", "postal_code", "latitude",
            "longitude", "features", "images", "url", "is_active", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_external_id(self, value: str | None) -> str | None:
        value = (value or "").strip()
        return value or None

    def validate_currency(self, value: str) -> str:
        value = value.strip().upper()
        if not _CURRENCY_RE.match(value):
            raise serializers.ValidationError("Use a three-letter ISO 4217 code, e.g. USD.")
        return value

    def validate_features(self, value: list[str]) -> list[str]:
        # Stored as given (trimmed), without empty entries or repeats.
        return list(dict.fromkeys(" ".join(item.split()) for item in value if item.strip()))

    def validate_city(self, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value


class PropertySearchHitSerializer(serializers.Serializer):
    property = PropertySerializer()
    score = serializers.FloatField()


class PropertySearchResultSerializer(serializers.Serializer):
    results = PropertySearchHitSerializer(many=True)


class PropertyImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Data row, counted from 1")
    attr = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


class PropertyImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = PropertyImportErrorSerializer(many=True)


class PropertyImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header row, or JSON: an array of property objects")
