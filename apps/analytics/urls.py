"""REST routes of analytics."""

from django.urls import path

from apps.analytics.apis import AnalyticsSummaryView

urlpatterns = [path("analytics/summary/", AnalyticsSummaryView.as_view(), name="analytics-summary")]
