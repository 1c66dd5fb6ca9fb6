"""DRF authentication by `Authorization: Api-Key <key>`, valid only on its own organization's host."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from apps.accounts.models import OrganizationAPIKey

# Writing last_used_at on every call would turn each read into a write; once a minute is enough
# for an admin to see which keys are alive.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyPrincipal:
    """request.user for a call made with an API key: authenticated, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, api_key: OrganizationAPIKey):
        self.api_key = api_key
        self.organization = api_key.organization

    def __str__(self) -> str:
        return f"api-key:{self.api_key.prefix}"


class OrganizationAPIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Api-Key"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, key = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None  # another scheme (e.g. a session); not ours to judge
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("The Api-Key header has no key.")
        api_key = self._lookup(key)
        tenant = getattr(request._request, "tenant", None)
        # A key is valid only on its own organization's host: never on the public host nor on
        # another organization's.
        if tenant is None or tenant.pk is None or api_key.organization_id != tenant.pk:
            raise exceptions.AuthenticationFailed("This API key does not belong to this organization's host.")
        self._touch(api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return self.keyword

    @staticmethod
    def _lookup(key: str) -> OrganizationAPIKey:
        # Keys live in the public schema; the connection's search_path (tenant, public) reaches it.
        try:
            api_key = OrganizationAPIKey.objects.get_from_key(key)
        except OrganizationAPIKey.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        return api_key

    @staticmethod
    def _touch(api_key: OrganizationAPIKey) -> None:
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            OrganizationAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
