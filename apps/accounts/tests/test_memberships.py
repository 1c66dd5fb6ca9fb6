"""Team services: invite by email (new or existing user, seats limit), role change and removal keep an owner."""

from __future__ import annotations

import pytest

from apps.accounts.models import Membership, Role, User
from apps.accounts.services import membership_delete, membership_invite, membership_role_change
from apps.core.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_invite_creates_a_user_without_a_password_or_reuses_one(org, other_org, member_of):
    invited = membership_invite(organization=org, email=" New@Example.com ", role=Role.ADMIN)
    assert invited.user.email == "new@example.com" and not invited.user.has_usable_password()
    assert invited.role == Role.ADMIN
    elsewhere = member_of(other_org, "member", email="known@example.com")
    with pytest.raises(ApplicationError) as taken:
        membership_invite(organization=org, email="new@example.com")
    assert taken.value.code == "conflict"
    with pytest.raises(ApplicationError) as bad_role:
        membership_invite(organization=org, email="known@example.com", role="king")
    assert bad_role.value.attr == "role"
    assert Membership.objects.filter(organization=org, user=elsewhere).count() == 0


def test_the_seats_limit_leaves_no_new_user_behind(org):
    # The starter plan has two seats; the owner holds one.
    membership_invite(organization=org, email="second@example.com")
    with pytest.raises(ApplicationError) as full:
        membership_invite(organization=org, email="third@example.com")
    assert full.value.code == "plan_limit"
    assert not User.objects.filter(email="third@example.com").exists()


def test_the_last_owner_can_neither_be_demoted_nor_removed(org, member_of):
    owner = Membership.objects.get(organization=org, role=Role.OWNER)
    for change in (
        lambda: membership_role_change(membership=owner, role=Role.ADMIN),
        lambda: membership_delete(membership=owner),
    ):
        with pytest.raises(ApplicationError) as refused:
            change()
        assert refused.value.code == "conflict"
    second = Membership.objects.get(user=member_of(org, "owner", email="co@acme.test"), organization=org)
    assert membership_role_change(membership=owner, role=Role.MEMBER).role == Role.MEMBER
    with pytest.raises(ApplicationError):
        membership_delete(membership=second)
    membership_role_change(membership=owner, role=Role.OWNER)
    membership_delete(membership=second)
    assert not Membership.objects.filter(pk=second.pk).exists()
    with pytest.raises(ApplicationError):
        membership_role_change(membership=owner, role="king")
