"""Access decorators for plain Django views; each marks the view so the access check can see it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from apps.accounts.models import Role
from apps.accounts.selectors import request_role, role_at_least

ACCESS_ATTR = "access_rule"


def _org_role_required(minimum: str) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            tenant = getattr(request, "tenant", None)
            if tenant is None or tenant.is_public:
                raise PermissionDenied("This page belongs to an organization's host.")
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not role_at_least(request_role(request), minimum):
                raise PermissionDenied(f"You need the {minimum} role in this organization.")
            return view(request, *args, **kwargs)

        setattr(wrapped, ACCESS_ATTR, f"org_{minimum}")
        return wrapped

    return decorator


org_member_required = _org_role_required(Role.MEMBER)
org_admin_required = _org_role_required(Role.ADMIN)
org_owner_required = _org_role_required(Role.OWNER)


def public_route(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Marks a view as open to anyone on purpose (visitors' pages, third-party webhooks)."""
    setattr(view, ACCESS_ATTR, "public")
    return view
