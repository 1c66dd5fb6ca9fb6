"""The listings' hard filters, one definition shared by the list endpoint, the search and the chat."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from apps.properties.models import ListingType, Property, PropertyType

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


class StrictBooleanField(forms.Field):
    """true/false/1/0/yes/no; anything else is an error (django-filter's own widget would ignore it)."""

    def to_python(self, value: Any) -> bool | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise forms.ValidationError("Use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class PropertyFilter(django_filters.FilterSet):
    city = django_filters.CharFilter(method="filter_city", help_text="City, case-insensitive exact match")
    property_type = django_filters.ChoiceFilter(choices=PropertyType.choices)
    listing_type = django_filters.ChoiceFilter(choices=ListingType.choices)
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", min_value=0)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0)
    min_bedrooms = IntegerFilter(field_name="bedrooms", lookup_expr="gte", min_value=0)
    is_active = StrictBooleanFilter(field_name="is_active")
    q = django_filters.CharFilter(method="filter_q", help_text="Text in the title, description, address or features")

    class Meta:
        model = Property
        fields: list[str] = []

    _form_class: type[forms.Form] | None = None

    def get_form_class(self) -> type[forms.Form]:
        # django-filter builds a new form class for every FilterSet; these fields never change (no
        # choices read from the database), so every search and chat turn can share one.
        cls = type(self)
        if cls.__dict__.get("_form_class") is None:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def filter_city(self, queryset: QuerySet[Property], name: str, value: str) -> QuerySet[Property]:
        value = " ".join(value.split()).lower()
        if not value:
            return queryset
        # lower(city) = …, the expression of property_city_lower_idx (iexact would use upper()).
        return queryset.alias(city_lower=Lower("city")).filter(city_lower=value)

    def filter_q(self, queryset: QuerySet[Property], name: str, value: str) -> QuerySet[Property]:
        value = " ".join(value.split())
        if not value:
            return queryset
        return queryset.filter(Q(search_text__icontains=value) | Q(description__icontains=value) | Q(external_id=value))


FILTER_NAMES: tuple[str, ...] = tuple(PropertyFilter.base_filters)
