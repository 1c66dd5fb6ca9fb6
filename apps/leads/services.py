"""Writes of leads: capture with dedupe and merge log, updates, status pipeline; each records its events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from apps.accounts.services import email_normalize
from apps.core.errors import ApplicationError, ErrorCode
from apps.events.models import EventType
from apps.events.services import event_record
from apps.leads.models import Lead, LeadMerge, LeadSource, LeadStatus, LeadStatusChange
from apps.leads.scoring import QUALIFICATION_THRESHOLD, lead_score
from apps.leads.serializers import lead_data

# Contact details seen for a lead besides its primary email/phone (a later capture gave another one);
# kept in attributes so that nothing a person told us is lost, and consulted when deduplicating.
OTHER_EMAILS = "other_emails"
OTHER_PHONES = "other_phones"
# Statuses a good score may move on to `qualified`; later stages are an agent's decision.
AUTO_QUALIFY_FROM = frozenset({LeadStatus.NEW, LeadStatus.CONTACTED})


def lead_email_normalize(value: str | None) -> str:
    """Lower-case, validated email; "" when not given."""
    value = (value or "").strip()
    return email_normalize(value, attr="email") if value else ""


def lead_phone_normalize(value: str | None) -> str:
    """E.164 (+15125550100) from any common way of writing a number; without a country code, PHONE_DEFAULT_REGION's."""
    value = (value or "").strip()
    if not value:
        return ""
    region = (settings.PHONE_DEFAULT_REGION or "US").upper()
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ApplicationError(ErrorCode.INVALID, f"'{value}' is not a valid phone number.", attr="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _attributes(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ApplicationError(ErrorCode.INVALID, "attributes must be a JSON object.", attr="attributes")
    return {str(key): item for key, item in value.items()}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _union(old: list[Any], new: list[Any]) -> list[Any]:
    """Old items first, then new ones not already there (strings compared case-insensitively)."""

    def key(item: Any) -> Any:
        return item.strip().casefold() if isinstance(item, str) else repr(item)

    merged, seen = list(old), {key(item) for item in old}
    for item in new:
        if not _empty(item) and key(item) not in seen:
            merged.append(item)
            seen.add(key(item))
    return merged


def attributes_merge(current: Mapping[str, Any], incoming: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Merge a capture's attributes into a lead's: (merged, previous values of what changed).

    Lists (areas, …) gain the new items and keep the old ones; a new scalar (budget_max, timeline…)
    replaces the old one, whose value goes to the merge log; empty values bring nothing.
    """
    merged = dict(current)
    previous: dict[str, Any] = {}
    for key, value in incoming.items():
        if _empty(value):
            continue
        old = merged.get(key)
        if _empty(old):
            merged[key] = value
        elif isinstance(old, list) or isinstance(value, list):
            union = _union(_as_list(old), _as_list(value))
            if union != _as_list(old):
                merged[key] = union
                previous[key] = old
        elif old != value:
            merged[key] = value
            previous[key] = old
    return merged, previous


def _record(event_type: str, lead: Lead, **extra: Any) -> None:
    event_record(type=event_type, data={"lead": lead_data(lead), **extra})


def _rescore(lead: Lead) -> None:
    lead.score = lead_score(name=lead.name, email=lead.email, phone=lead.phone, attributes=lead.attributes)


def _find(*, email: str, phone: str, conversation_id: int | None) -> tuple[Lead | None, str]:
    """The organization's lead for these contact details (locked until commit), and what matched."""
    leads = Lead.objects.select_for_update().order_by("created_at", "id")
    if email:
        found = leads.filter(Q(email=email) | Q(**{f"attributes__{OTHER_EMAILS}__contains": [email]})).first()
        if found:
            return found, "email"
    if phone:
        found = leads.filter(Q(phone=phone) | Q(**{f"attributes__{OTHER_PHONES}__contains": [phone]})).first()
        if found:
            return found, "phone"
    if conversation_id:
        found = leads.filter(conversation_id=conversation_id).first()
        if found:
            return found, "conversation"
    return None, ""


def _owner_check(owner: Any) -> None:
    if owner is None:
        return
    from apps.accounts.selectors import membership_role

    organization = connection.tenant
    if membership_role(user=owner, organization=organization) is None:
        raise ApplicationError(ErrorCode.INVALID, "The owner must be a member of this organization.", attr="owner")


@transaction.atomic
def lead_status_change(
    *, lead: Lead, status: str, changed_by: Any = None, reason: str = "", record_update: bool = False
) -> Lead:
    """Move a lead to `status`: the change is recorded and `lead.status_changed` carries `previous_status`."""
    if status not in LeadStatus.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{status}' is not a lead status.", attr="status")
    previous = lead.status
    if status == previous:
        return lead
    lead.status = status
    lead.save(update_fields=["status", "updated_at"])
    LeadStatusChange.objects.create(
        lead=lead, from_status=previous, to_status=status, changed_by=changed_by, reason=reason[:40]
    )
    _record(EventType.LEAD_STATUS_CHANGED, lead, previous_status=previous)
    return lead


def _auto_qualify(lead: Lead) -> None:
    if lead.score >= QUALIFICATION_THRESHOLD and lead.status in AUTO_QUALIFY_FROM:
        lead_status_change(lead=lead, status=LeadStatus.QUALIFIED, reason="score")


@transaction.atomic
def lead_capture(
    *,
    name: str = "",
    email: str | None = None,
    phone: str | None = None,
    source: str = LeadSource.API,
    attributes: Mapping[str, Any] | None = None,
    conversation_id: int | None = None,
    owner: Any = None,
) -> tuple[Lead, bool]:
    """Create a lead, or merge into the organization's lead with the same email or phone (or conversation).

    Returns (lead, created). A merge keeps every earlier value: lists gain items, replaced scalars and
    extra contact details go to the merge log (`LeadMerge`) and `other_emails`/`other_phones`. The lead
    is scored and qualifies itself over the threshold. Events (`lead.created` or `lead.updated`, and
    `lead.status_changed`) are recorded in this transaction.
    """
    name = " ".join((name or "").split())[:200]
    email = lead_email_normalize(email)
    phone = lead_phone_normalize(phone)
    attributes = _attributes(attributes)
    if source not in LeadSource.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{source}' is not a lead source.", attr="source")
    if not (email or phone or conversation_id):
        raise ApplicationError(ErrorCode.INVALID, "A lead needs an email address or a phone number.", attr="email")
    _owner_check(owner)
    incoming = {"name": name, "email": email, "phone": phone, "attributes": attributes}

    lead, matched_on = _find(email=email, phone=phone, conversation_id=conversation_id)
    if lead is None:
        try:
            # A savepoint: losing a race on the unique email/phone must not break the outer transaction.
            with transaction.atomic():
                lead = Lead(
                    name=name, email=email, phone=phone, source=source, attributes=attributes,
                    conversation_id=conversation_id, owner=owner,
                )  # fmt: skip
                _rescore(lead)
                lead.save()
        except IntegrityError:
            lead, matched_on = _find(email=email, phone=phone, conversation_id=conversation_id)
            if lead is None:
                raise
        else:
            _record(EventType.LEAD_CREATED, lead)
            _auto_qualify(lead)
            return lead, True

    before = lead_data(lead)
    previous: dict[str, Any] = {}
    if name and name != lead.name:
        if lead.name:
            previous["name"] = lead.name
        lead.name = name
    new_attributes, replaced = attributes_merge(lead.attributes, attributes)
    previous.update({f"attributes.{key}": value for key, value in replaced.items()})
    for value, field, others in ((email, "email", OTHER_EMAILS), (phone, "phone", OTHER_PHONES)):
        if not value or value == getattr(lead, field):
            continue
        if not getattr(lead, field) and not Lead.objects.filter(**{field: value}).exists():
            setattr(lead, field, value)
        else:
            # The lead keeps its primary contact; the other one is kept next to it.
            new_attributes[others] = _union(new_attributes.get(others) or [], [value])
    if conversation_id and not lead.conversation_id:
        lead.conversation_id = conversation_id
    if owner is not None and lead.owner_id is None:
        lead.owner = owner
    lead.attributes = new_attributes
    _rescore(lead)
    LeadMerge.objects.create(lead=lead, source=source, matched_on=matched_on, incoming=incoming, previous=previous)
    if lead_data(lead) != before:
        lead.save()
        _record(EventType.LEAD_UPDATED, lead)
    _auto_qualify(lead)
    return lead, False


@transaction.atomic
def lead_update(*, lead: Lead, changed_by: Any = None, reason: str = "api", **fields: Any) -> Lead:
    """Change a lead (name, email, phone, owner, attributes as a merge patch, status).

    Records `lead.updated` when anything but the status changed, and `lead.status_changed` (with the
    recorded change) when the status did.
    """
    unknown = set(fields) - {"name", "email", "phone", "owner", "attributes", "status"}
    if unknown:
        raise TypeError(f"lead_update() got unexpected fields: {sorted(unknown)}")
    before = lead_data(lead)
    if "name" in fields:
        lead.name = " ".join((fields["name"] or "").split())[:200]
    for field, normalize in (("email", lead_email_normalize), ("phone", lead_phone_normalize)):
        if field not in fields:
            continue
        value = normalize(fields[field])
        if value and Lead.objects.filter(**{field: value}).exclude(pk=lead.pk).exists():
            raise ApplicationError(ErrorCode.CONFLICT, f"Another lead has the {field} {value}.", attr=field)
        setattr(lead, field, value)
    if "owner" in fields:
        _owner_check(fields["owner"])
        lead.owner = fields["owner"]
    if "attributes" in fields:
        patch = _attributes(fields["attributes"])
        merged = {**lead.attributes, **patch}
        lead.attributes = {key: value for key, value in merged.items() if value is not None}
    if not (lead.email or lead.phone or lead.conversation_id):
        raise ApplicationError(ErrorCode.INVALID, "A lead needs an email address or a phone number.", attr="email")
    _rescore(lead)
    if lead_data(lead) != before:
        lead.save()
        _record(EventType.LEAD_UPDATED, lead)
    if "status" in fields:
        lead_status_change(lead=lead, status=fields["status"], changed_by=changed_by, reason=reason)
    return lead
