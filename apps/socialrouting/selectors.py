"""Reads of the routing table (public schema)."""

from __future__ import annotations

from collections.abc import Iterable

from apps.socialrouting.models import SocialRoute
from apps.tenants.models import Organization


def routes_resolve(*, platform: str, external_ids: Iterable[str]) -> dict[str, Organization]:
    """The organization of each known id (unknown ids are absent), in one query."""
    ids = {str(external_id) for external_id in external_ids if external_id}
    if not ids:
        return {}
    routes = SocialRoute.objects.select_related("organization").filter(platform=platform, external_id__in=ids)
    return {route.external_id: route.organization for route in routes}


def route_owner(*, platform: str, external_id: str) -> Organization | None:
    return routes_resolve(platform=platform, external_ids=[external_id]).get(str(external_id))
