"""Reads of leads: the filtered list (status, source, q) and one lead."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import QueryDict

from apps.core.errors import ApplicationError, ErrorCode
from apps.leads.models import Lead, LeadSource, LeadStatus


class LeadFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices)
    source = django_filters.ChoiceFilter(choices=LeadSource.choices)
    q = django_filters.CharFilter(method="filter_q", help_text="Text in the name or email, or digits of the phone")

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        value = " ".join(value.split())
        if not value:
            return queryset
        condition = Q(name__icontains=value) | Q(email__icontains=value)
        digits = re.sub(r"\D", "", value)
        # Phones are stored as E.164: "(512) 555-0100" is found by its digits.
        if len(digits) >= 3 and re.fullmatch(r"[\d\s()+.\-]+", value):
            condition |= Q(phone__contains=digits)
        return queryset.filter(condition)


def lead_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Lead]:
    """Leads matching the filters, newest first; a bad filter value is a 400 naming it."""
    data = filters if isinstance(filters, QueryDict) else dict(filters or {})
    filterset = LeadFilter(data=data, queryset=Lead.objects.all())
    if not filterset.is_valid():
        attr, messages = next(iter(filterset.errors.items()))
        raise ApplicationError(ErrorCode.INVALID, str(messages[0]), attr=attr)
    return filterset.qs


def lead_get(*, pk: int) -> Lead | None:
    return Lead.objects.filter(pk=pk).first()
