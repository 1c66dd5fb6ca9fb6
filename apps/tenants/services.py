"""Writes of organizations: creation with fast schema provisioning, and profile updates."""

from __future__ import annotations

import logging
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django_tenants.utils import get_public_schema_name, schema_context

from apps.core.errors import ApplicationError, ErrorCode
from apps.tenants import provisioning
from apps.tenants.models import Domain, Organization, schema_name_for, validate_slug
from apps.tenants.selectors import organization_forget

logger = logging.getLogger(__name__)

# Fields an admin may change through the API; slug and schema never change after creation.
EDITABLE_FIELDS = (
    "name",
    "primary_color",
    "logo_url",
    "persona_name",
    "persona_tone",
    "persona_instructions",
    "greeting",
    "allowed_origins",
)


def slug_validate(slug: str) -> str:
    slug = (slug or "").strip().lower()
    try:
        validate_slug(slug)
    except ValidationError as exc:
        raise ApplicationError(ErrorCode.INVALID, f"Invalid slug '{slug}': {exc.messages[0]}", attr="slug") from None
    if (
        Organization.objects.filter(slug=slug).exists()
        or Organization.objects.filter(schema_name=schema_name_for(slug)).exists()
    ):
        raise ApplicationError(ErrorCode.CONFLICT, f"The slug '{slug}' is already taken.", attr="slug")
    return slug


def organization_create(
    *,
    slug: str,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    plan: str = "starter",
    **profile,
) -> Organization:
    """Create the organization, its schema (copied from the template), domain, owner and trial."""
    from apps.accounts.models import Membership, Role
    from apps.accounts.services import email_normalize, user_get_or_create
    from apps.billing.services import plan_get, subscription_start_trial

    started = time.perf_counter()
    with schema_context(get_public_schema_name()):
        slug = slug_validate(slug)
        name = (name or "").strip()
        if not name:
            raise ApplicationError(ErrorCode.INVALID, "An organization needs a name.", attr="name")
        owner_email = email_normalize(owner_email, attr="owner_email")
        plan_get(code=plan)
        unknown = set(profile) - set(EDITABLE_FIELDS)
        if unknown:
            raise TypeError(f"organization_create() got unexpected fields: {sorted(unknown)}")
        # Outside the transaction: the template may need migrating, which pg_dump must see committed.
        provisioning.template_dump()
        with transaction.atomic():
            organization = Organization(schema_name=schema_name_for(slug), slug=slug, name=name, **profile)
            _full_clean(organization)
            organization.save()
            Domain.objects.create(domain=organization.host, tenant=organization, is_primary=True)
            provisioning.schema_provision(organization.schema_name)
            owner, _ = user_get_or_create(email=owner_email, password=owner_password)
            # The owner's seat is part of every plan: no entitlement check for it.
            Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
            subscription_start_trial(organization=organization, plan_code=plan)
    logger.info("organization %s ready in %.3f s", slug, time.perf_counter() - started)
    return organization


@transaction.atomic
def organization_update(*, organization: Organization, **fields) -> Organization:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(ErrorCode.INVALID, f"'{sorted(unknown)[0]}' cannot be changed.", attr=sorted(unknown)[0])
    for field, value in fields.items():
        setattr(organization, field, value)
    _full_clean(organization, exclude=["schema_name", "slug"])
    organization.save(update_fields=[*fields, "updated_at"])
    # Now for this transaction's own reads, and after commit for a reader that remembered the old row.
    organization_forget(organization.schema_name)
    transaction.on_commit(lambda: organization_forget(organization.schema_name))
    return organization


def _full_clean(organization: Organization, exclude: list[str] | None = None) -> None:
    try:
        organization.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise ApplicationError(ErrorCode.INVALID, messages[0], attr=None if field == "__all__" else field) from None
