"""REST API of analytics: GET /api/v1/analytics/summary/?days=30."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.analytics.selectors import analytics_days_validate, analytics_summary

DEFAULT_DAYS = 30


class AnalyticsSummaryView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("days", int, description="Days back from today, 1-365 (default 30)")],
        responses=OpenApiTypes.OBJECT,
        summary="Conversations, messages, leads, conversion, AI replies, email and webhook numbers with per-day series",
        description="`email` is null while no email app records a message log. Rates are null when "
        "there is nothing to divide by.",
    )
    def get(self, request):
        days = analytics_days_validate(request.query_params.get("days", DEFAULT_DAYS))
        return Response(analytics_summary(days=days))
