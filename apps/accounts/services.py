"""Writes of users, memberships and API keys."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from apps.accounts.models import Membership, OrganizationAPIKey, Role, User
from apps.billing.models import Entitlement
from apps.billing.services import entitlement_check
from apps.core.errors import ApplicationError, ErrorCode
from apps.tenants.models import Organization

EMAIL_MAX_LENGTH = 254  # the columns' (User.email, Lead.email)


def email_normalize(email: str, *, attr: str = "email") -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(ErrorCode.INVALID, f"'{email[:100]}' is not a valid email address.", attr=attr) from None
    if len(email) > EMAIL_MAX_LENGTH:  # validate_email takes up to 320
        raise ApplicationError(
            ErrorCode.INVALID, f"An email address has at most {EMAIL_MAX_LENGTH} characters.", attr=attr
        )
    return email


@transaction.atomic
def user_get_or_create(*, email: str, password: str | None = None, full_name: str = "") -> tuple[User, bool]:
    email = email_normalize(email)
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user, True


@transaction.atomic
def membership_create(*, organization: Organization, user: User, role: str = Role.MEMBER) -> Membership:
    existing = Membership.objects.filter(organization=organization, user=user).first()
    if existing is not None:
        raise ApplicationError(ErrorCode.CONFLICT, f"{user.email} is already a member.", attr="email")
    entitlement_check(organization, Entitlement.SEATS)
    return Membership.objects.create(organization=organization, user=user, role=role)


@transaction.atomic
def membership_invite(*, organization: Organization, email: str, role: str = Role.MEMBER) -> Membership:
    """Add a person by email, creating the user (without a password: a reset sets it) if new.

    One transaction: a refused membership (already a member, no seat left) leaves no new user behind.
    """
    _role_validate(role)
    user, _ = user_get_or_create(email=email)
    return membership_create(organization=organization, user=user, role=role)


def _role_validate(role: str) -> None:
    if role not in Role.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{role}' is not a role.", attr="role")


def _owners_remaining_check(membership: Membership) -> None:
    # Locks the owners' rows: two owners demoting each other at once cannot both succeed.
    owners = list(
        Membership.objects.select_for_update()
        .filter(organization_id=membership.organization_id, role=Role.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [membership.pk]:
        raise ApplicationError(ErrorCode.CONFLICT, "An organization keeps at least one owner.", attr="role")


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str) -> Membership:
    _role_validate(role)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _owners_remaining_check(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    if membership.role == Role.OWNER:
        _owners_remaining_check(membership)
    membership.delete()


@transaction.atomic
def api_key_create(
    *, organization: Organization, name: str, created_by: User | None = None
) -> tuple[OrganizationAPIKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(ErrorCode.INVALID, "An API key needs a name.", attr="name")
    if len(name) > 50:
        raise ApplicationError(ErrorCode.INVALID, "API key names have at most 50 characters.", attr="name")
    return OrganizationAPIKey.objects.create_key(organization=organization, name=name, created_by=created_by)


def api_key_revoke(*, api_key: OrganizationAPIKey) -> OrganizationAPIKey:
    if not api_key.revoked:
        api_key.revoked = True
        api_key.save(update_fields=["revoked"])
    return api_key
