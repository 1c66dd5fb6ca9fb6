"""URLs of an organization's host (`<slug>.<BASE_DOMAIN>`): its API, docs and admin."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.views import api_not_found, healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("apps.core.api_urls")),
    path("api/connect/", include("apps.social.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("apps.dashboard.urls")),
    # Last: an /api/ path nothing above claims answers the API's JSON 404 (under DEBUG too).
    re_path(r"^api/", api_not_found),
]

handler400 = "apps.core.views.bad_request"
handler403 = "apps.core.views.permission_denied"
handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
