"""Reads about who may do what in an organization."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.models import ROLE_RANK, Membership, OrganizationAPIKey, Role
from apps.tenants.models import Organization


def membership_role(*, user, organization: Organization) -> str | None:
    if not getattr(user, "is_authenticated", False) or organization.pk is None:
        return None
    return (
        Membership.objects.filter(user_id=user.pk, organization_id=organization.pk)
        .values_list("role", flat=True)
        .first()
    )


def request_role(request: HttpRequest) -> str | None:
    """The caller's role in the request's organization: admin for its API key, else the member's role.

    Cached on the request: permission classes and decorators may ask several times.
    """
    underlying = getattr(request, "_request", request)
    if hasattr(underlying, "_org_role"):
        return underlying._org_role
    organization = getattr(underlying, "tenant", None)
    role: str | None = None
    if organization is not None and not organization.is_public:
        auth = getattr(request, "auth", None)
        if isinstance(auth, OrganizationAPIKey):
            role = Role.ADMIN if auth.organization_id == organization.pk else None
        else:
            role = membership_role(user=getattr(request, "user", None), organization=organization)
    underlying._org_role = role
    return role


def role_at_least(role: str | None, minimum: str) -> bool:
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def membership_count(*, organization: Organization) -> int:
    return Membership.objects.filter(organization=organization).count()


def membership_list(*, organization: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=organization).select_related("user").order_by("created_at", "pk")


def membership_get(*, organization: Organization, pk: int) -> Membership | None:
    return membership_list(organization=organization).filter(pk=pk).first()
