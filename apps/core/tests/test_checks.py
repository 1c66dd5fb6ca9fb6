"""The access check flags a view that declares no access rule, and passes the project's own URLconfs."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path

from apps.accounts.decorators import org_admin_required, public_route
from apps.core.checks import tenant_views_declare_access


def undecorated(request):
    return HttpResponse("oops")


@org_admin_required
def guarded(request):
    return HttpResponse("ok")


@public_route
def open_page(request):
    return HttpResponse("ok")


urlpatterns = [path("a/", undecorated), path("b/", guarded), path("c/", open_page)]


def test_project_urls_pass():
    assert tenant_views_declare_access() == []


def test_undecorated_view_is_flagged(settings):
    settings.ROOT_URLCONF = __name__
    errors = tenant_views_declare_access()
    assert [error.id for error in errors] == ["core.E001"]
    assert "'a/'" in errors[0].msg
