"""The listings' hard filters, one definition shared by the list endpoint, the search and the chat."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from apps.core.errors import ApplicationError, ErrorCode
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

    @classmethod
    def search_form_class(cls) -> type[forms.Form]:
        """The form that validates these filters (built from a FilterSet once, then shared)."""
        return cls.__dict__.get("_form_class") or cls(queryset=Property.objects.none()).get_form_class()

    def filter_city(self, queryset: QuerySet[Property], name: str, value: str) -> QuerySet[Property]:
        value = city_key(value)
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


def city_key(value: str) -> str:
    """A city as both forms of the filter compare it: spaces collapsed, lowercase (lower(city) = …)."""
    return " ".join(value.split()).lower()


def filter_error(errors: Mapping[str, list[str]]) -> ApplicationError:
    """A 400 naming the first bad filter (django-filter itself would drop a bad value silently)."""
    attr, messages = next(iter(errors.items()))
    return ApplicationError(ErrorCode.INVALID, str(messages[0]), attr=attr)


def filters_clean(data: Mapping[str, Any]) -> dict[str, Any]:
    """The filters validated by PropertyFilter's form fields, without their empty values; a bad one is an
    ApplicationError naming it (the first in declaration order, as the form's errors list them).

    The search's own path, on every chat turn: each given value goes through its form field's clean(),
    without the FilterSet (which deep-copies its filters and builds a queryset) or a form instance
    (which deep-copies its fields).
    """
    cleaned: dict[str, Any] = {}
    for name, form_field in PropertyFilter.search_form_class().base_fields.items():
        if data.get(name) in (None, ""):
            continue
        try:
            value = form_field.clean(data[name])
        except forms.ValidationError as exc:
            raise filter_error({name: exc.messages}) from None
        if value not in (None, ""):
            cleaned[name] = value
    return cleaned


# The search's hard filters as SQL on the listings table aliased `p`: the same conditions as the
# FilterSet's (apps/properties/tests/test_filters.py checks that both forms select the same rows).
# `q` is not a search filter: the search ranks the text instead.
_FILTER_SQL: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "city": ("lower(p.city) = %s", city_key),
    "property_type": ("p.property_type = %s", str),
    "listing_type": ("p.listing_type = %s", str),
    "min_price": ("p.price >= %s", Decimal),
    "max_price": ("p.price <= %s", Decimal),
    "min_bedrooms": ("p.bedrooms >= %s", int),
    "is_active": ("p.is_active = %s", bool),
}


def filters_sql(cleaned: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """`cleaned` (see filters_clean) as one SQL condition on `p` with its parameters; TRUE without filters."""
    conditions: list[str] = []
    params: list[Any] = []
    for name, value in cleaned.items():
        if name not in _FILTER_SQL:
            raise ValueError(f"{name} is not a search filter")
        condition, convert = _FILTER_SQL[name]
        value = convert(value)
        if value == "":
            continue  # a city of only spaces filters nothing, as in the FilterSet
        conditions.append(condition)
        params.append(value)
    return (" AND ".join(conditions) or "TRUE"), params
