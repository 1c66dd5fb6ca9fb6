"""Access rules for plain views (decorators) and API views (permission classes), by role and host."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from apps.accounts.decorators import org_admin_required, org_member_required, org_owner_required, public_route
from apps.accounts.models import User
from apps.accounts.services import membership_create, user_get_or_create
from apps.core.errors import ApplicationError
from apps.tenants.selectors import public_organization

DECORATORS = {"member": org_member_required, "admin": org_admin_required, "owner": org_owner_required}
# Which roles pass each decorator.
ALLOWED = {
    "member": {"member", "admin", "owner"},
    "admin": {"admin", "owner"},
    "owner": {"owner"},
}


def _request(organization, user):
    request = RequestFactory().get("/dashboard/")
    request.tenant = organization
    request.user = user
    return request


@pytest.mark.parametrize("required", ["member", "admin", "owner"])
@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_decorators_by_role(org, member_of, required, role):
    view = DECORATORS[required](lambda request: HttpResponse("ok"))
    request = _request(org, member_of(org, role))
    if role in ALLOWED[required]:
        assert view(request).status_code == 200
    else:
        with pytest.raises(PermissionDenied):
            view(request)


def test_decorator_redirects_anonymous_to_login(org):
    view = org_member_required(lambda request: HttpResponse("ok"))
    response = view(_request(org, AnonymousUser()))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_decorator_denies_members_of_other_organizations(org, other_org, member_of):
    view = org_member_required(lambda request: HttpResponse("ok"))
    with pytest.raises(PermissionDenied):
        view(_request(org, member_of(other_org, "owner", email="boss@globex.test")))


def test_decorator_denies_on_public_host(org, member_of):
    view = org_member_required(lambda request: HttpResponse("ok"))
    with pytest.raises(PermissionDenied):
        view(_request(public_organization(), member_of(org, "owner")))


def test_public_route_only_marks():
    def page(request):
        return HttpResponse("hi")

    assert public_route(page) is page and page.access_rule == "public"


def test_membership_unique_per_pair(org):
    user, _ = user_get_or_create(email="dup@acme.test")
    membership_create(organization=org, user=user)
    with pytest.raises(ApplicationError) as caught:
        membership_create(organization=org, user=user)
    assert caught.value.code == "conflict"


def test_email_login_and_normalization(db):
    user, created = user_get_or_create(email="  Mixed@Case.TEST ", password="pw-123456")
    assert created and user.email == "mixed@case.test"
    assert User.USERNAME_FIELD == "email"
    again, created = user_get_or_create(email="MIXED@case.test")
    assert again.pk == user.pk and not created
    with pytest.raises(ApplicationError) as caught:
        user_get_or_create(email="nope")
    assert caught.value.attr == "email"
