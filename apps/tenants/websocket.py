"""ASGI middleware for websockets: resolve the organization (slug in the path, or the host) and check the origin.

django-tenants' middleware is HTTP-only. Here only the organization's plain data goes into the
scope (`scope["organization"]`, `scope["schema_name"]`); consumers enter
`schema_context(scope["schema_name"])` inside each sync database function, never a shared
connection-level schema (see NOTES: a shared schema leaks between sockets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import close_old_connections

from apps.tenants.models import Domain, Organization, origin_allowed

CLOSE_UNKNOWN_ORGANIZATION = 4404
CLOSE_ORIGIN_NOT_ALLOWED = 4403
# /ws/<channel>/<org_slug>/… names the organization explicitly (the public host's chat).
SLUG_IN_PATH = re.compile(r"^/ws/[a-z0-9_-]+/(?P<slug>[a-z][a-z0-9-]{1,39})/")


@dataclass(frozen=True)
class OrganizationRef:
    """What a consumer may keep about its organization: no ORM object, no connection state."""

    id: int
    slug: str
    schema_name: str
    name: str


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


@database_sync_to_async
def _resolve(path: str, host: str | None) -> tuple[OrganizationRef | None, list[str]]:
    close_old_connections()
    organization = None
    match = SLUG_IN_PATH.match(path)
    if match:
        organization = Organization.objects.filter(slug=match["slug"]).first()
    elif host:
        hostname = host.split(":")[0].lower()
        domain = Domain.objects.select_related("tenant").filter(domain=hostname).first()
        organization = domain.tenant if domain else None
    if organization is None or organization.schema_name == settings.PUBLIC_SCHEMA_NAME:
        return None, []
    ref = OrganizationRef(organization.pk, organization.slug, organization.schema_name, organization.name)
    return ref, list(organization.allowed_origins)


class TenantWebsocketMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.inner(scope, receive, send)
        organization, allowed = await _resolve(scope["path"], _header(scope, b"host"))
        if organization is None:
            return await self._reject(receive, send, CLOSE_UNKNOWN_ORGANIZATION)
        if not origin_allowed(_header(scope, b"origin"), allowed_origins=allowed, host=_header(scope, b"host")):
            return await self._reject(receive, send, CLOSE_ORIGIN_NOT_ALLOWED)
        scope = dict(scope, organization=organization, schema_name=organization.schema_name)
        return await self.inner(scope, receive, send)

    @staticmethod
    async def _reject(receive, send, code: int) -> None:
        # Accept first, then close: closing before accept makes daphne answer HTTP 403 and the
        # client never sees the close code.
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": code})
