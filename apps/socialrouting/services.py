"""Writes of the routing table: claim an id for an organization, release it."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.core.errors import ApplicationError, ErrorCode
from apps.socialrouting.models import SocialRoute
from apps.tenants.models import Organization

TAKEN_DETAIL = "This {what} is already connected to another organization; disconnect it there first."


@transaction.atomic
def route_claim(*, platform: str, external_id: str, organization: Organization, attr: str = "page_id") -> SocialRoute:
    """Route `external_id` to `organization`; 409 when another organization owns it."""
    what = "Instagram account" if platform == "instagram" else "page"
    route = SocialRoute.objects.select_for_update().filter(platform=platform, external_id=external_id).first()
    if route is not None:
        if route.organization_id != organization.pk:
            raise ApplicationError(ErrorCode.CONFLICT, TAKEN_DETAIL.format(what=what), attr=attr)
        return route
    try:
        # A savepoint: losing the race to another organization must not break the caller's transaction.
        with transaction.atomic():
            return SocialRoute.objects.create(platform=platform, external_id=external_id, organization=organization)
    except IntegrityError:
        raise ApplicationError(ErrorCode.CONFLICT, TAKEN_DETAIL.format(what=what), attr=attr) from None


@transaction.atomic
def route_release(*, platform: str, external_id: str, organization: Organization) -> int:
    """Forget the route (only the owner's): later webhooks for the id are logged and dropped."""
    deleted, _ = SocialRoute.objects.filter(
        platform=platform, external_id=external_id, organization=organization
    ).delete()
    return deleted
