"""DRF permission classes by role in the request's organization (an API key acts as admin).

Every role class also applies billing's read-only rule (a canceled subscription refuses writes),
so no view can forget it by naming its own permission classes.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from apps.accounts.models import Role
from apps.accounts.selectors import request_role, role_at_least
from apps.billing.permissions import SubscriptionWritable

_writable = SubscriptionWritable()


class _RolePermission(BasePermission):
    minimum: str = Role.MEMBER
    message = "You need the member role in this organization."

    def has_permission(self, request, view) -> bool:
        return role_at_least(request_role(request), self.minimum) and _writable.has_permission(request, view)


class IsOrgMember(_RolePermission):
    minimum = Role.MEMBER


class IsOrgAdmin(_RolePermission):
    minimum = Role.ADMIN
    message = "You need the admin role in this organization."


class IsOrgOwner(_RolePermission):
    minimum = Role.OWNER
    message = "You need the owner role in this organization."


class IsOrgMemberReadAdminWrite(BasePermission):
    """Members read; changes need an admin."""

    message = "Changes need the admin role in this organization."

    def has_permission(self, request, view) -> bool:
        role = request_role(request)
        if request.method in SAFE_METHODS:
            return role_at_least(role, Role.MEMBER)
        return role_at_least(role, Role.ADMIN) and _writable.has_permission(request, view)
