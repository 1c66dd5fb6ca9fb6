"""System check: every plain Django view on a tenant host states who may use it (deny by default)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from apps.accounts.decorators import ACCESS_ATTR

# Views whose access is enforced by their own framework (DRF permissions, the admin's login,
# drf-spectacular's SERVE_PERMISSIONS) rather than by our decorators.
SELF_GUARDED_MODULES = ("django.contrib.admin", "rest_framework", "drf_spectacular")


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # the admin site requires staff login on every view it routes
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _guarded(view) -> bool:
    if getattr(view, ACCESS_ATTR, None):
        return True
    if hasattr(view, "cls") or hasattr(view, "view_class"):
        cls = getattr(view, "cls", None) or view.view_class
        if any(base.__module__.startswith(SELF_GUARDED_MODULES) for base in cls.__mro__):
            return True
    module = getattr(view, "__module__", "") or ""
    return module.startswith(SELF_GUARDED_MODULES) or bool(getattr(view, "admin_site", None))


@checks.register(checks.Tags.security)
def tenant_views_declare_access(app_configs=None, **kwargs):
    errors = []
    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        for route, view in _walk(get_resolver(urlconf).url_patterns):
            if not _guarded(view):
                errors.append(
                    checks.Error(
                        f"View for '{route}' in {urlconf} has no access rule.",
                        hint="Decorate it with org_member_required, org_admin_required, "
                        "org_owner_required or public_route.",
                        obj=view,
                        id="core.E001",
                    )
                )
    return errors
