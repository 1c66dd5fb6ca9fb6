"""Resolve the organization from the Host header; unknown tenant hosts get a 404, other hosts the public site."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from apps.core.errors import error_body
from apps.tenants.selectors import public_organization


class OrganizationMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model, hostname):
        return domain_model.objects.select_related("tenant").get(domain=hostname.lower()).tenant

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse | None:
        base = settings.BASE_DOMAIN.lower()
        if hostname.lower().endswith("." + base):
            # `<something>.<BASE_DOMAIN>` names a tenant that does not exist: never fall back to
            # the public site, which would make a typo look like a working agency.
            if request.path.startswith("/api/"):
                body = error_body("client_error", "not_found", f"No organization at {hostname}.")
                return JsonResponse(body, status=404)
            context = {"unknown_host": hostname, "public_url": f"{settings.PUBLIC_URL_SCHEME}://{base}/"}
            return render(request, "core/404.html", context, status=404)
        # Any other host (the bare BASE_DOMAIN, an IP, a load balancer's name) is the public site.
        request.tenant = public_organization()
        connection.set_tenant(request.tenant)
        self.setup_url_routing(request, force_public=True)
        return None
