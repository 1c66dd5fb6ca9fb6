"""How the OpenAPI document describes our API-key authentication (drf-spectacular extension)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OrganizationAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.OrganizationAPIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: a key of this organization, used on its own host.",
        }
