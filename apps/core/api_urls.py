"""The /api/v1/ tree of a tenant host, assembled from each domain's urls."""

from django.urls import include, path

urlpatterns = [
    path("", include("apps.tenants.urls")),
    path("", include("apps.events.urls")),
    path("", include("apps.properties.urls")),
    path("", include("apps.leads.urls")),
    path("", include("apps.webhooks.urls")),
    path("", include("apps.billing.urls")),
    path("", include("apps.chat.urls")),
    path("", include("apps.analytics.urls")),
    path("", include("apps.campaigns.urls")),
]
