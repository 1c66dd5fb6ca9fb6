"""The read-only rule of a canceled subscription, as a DRF permission every tenant API view gets."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission

# This module is imported by DRF itself (DEFAULT_PERMISSION_CLASSES, read when rest_framework.views
# loads), possibly before the app registry is ready: it imports no models at module level.

# ErrorCode.PLAN_LIMIT, spelled out: apps.core.errors imports rest_framework.views, hence this module.
# `plan_limit` rather than a new code: the contract's 403s are "role or plan limit", and a client
# answering plan_limit with "see billing" does the right thing here too.
READ_ONLY_CODE = "plan_limit"
READ_ONLY_DETAIL = (
    "The subscription of this organization is canceled, so its data is read-only. "
    "Choose a plan (POST /api/v1/billing/checkout/) to make changes again."
)


def billing_exempt(view):
    """Mark a view (class or function) as reachable for writes even when the subscription is canceled."""
    view.billing_exempt = True
    return view


def is_billing_exempt(view) -> bool:
    return bool(getattr(view, "billing_exempt", False))


def request_is_read_only(request) -> bool:
    """True when `request` would change data of an organization whose subscription is canceled."""
    from apps.billing.selectors import subscription_get, subscription_is_read_only

    if request.method in SAFE_METHODS:
        return False
    organization = getattr(request, "tenant", None)
    if organization is None or organization.is_public:
        return False
    underlying = getattr(request, "_request", request)
    # Cached on the request: several permission classes of one view may ask.
    if not hasattr(underlying, "_billing_read_only"):
        underlying._billing_read_only = subscription_is_read_only(subscription_get(organization=organization))
    return underlying._billing_read_only


class SubscriptionWritable(BasePermission):
    """Unsafe methods answer 403 `plan_limit` while the subscription is canceled (billing views excepted).

    Every role class of apps/accounts/permissions.py applies it, so every tenant API view does; a view
    with other permission classes can add it explicitly.
    """

    message = READ_ONLY_DETAIL
    code = READ_ONLY_CODE

    def has_permission(self, request, view) -> bool:
        if is_billing_exempt(view) or not request_is_read_only(request):
            return True
        if request.successful_authenticator is None and not request.user.is_authenticated:
            return False  # DRF then answers 401: credentials come before plans
        # Raised rather than returned: composed as `IsOrgAdmin & SubscriptionWritable`, DRF would
        # drop this class's message and code and answer a bare permission_denied.
        raise exceptions.PermissionDenied(detail=self.message, code=self.code)
