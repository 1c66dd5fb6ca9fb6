"""Writes of email follow-up: campaigns and steps, enrollment, idempotent sends, blasts, tracking, suppression.

Sending is at most once per (lead, step): the MessageLog row is committed before the mail is handed to
the provider, under a unique (lead, step) key, so a retried or parallel job finds the row and sends
nothing. A crash between that commit and the send leaves the row `queued` (the mail is lost, never
doubled), which is the right trade for email.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_tenants.utils import schema_context

from apps.campaigns.content import TemplateError, mail_context, mail_render, public_url, template_check
from apps.campaigns.defaults import WELCOME_NAME, welcome_steps
from apps.campaigns.mailer import OutgoingMail, SendFailed, mail_send
from apps.campaigns.models import (
    WELCOME_KEY,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignStep,
    CampaignTrigger,
    EmailSetup,
    Enrollment,
    EnrollmentStatus,
    MessageLog,
    MessageStatus,
    StopReason,
    Suppression,
    SuppressionReason,
)
from apps.campaigns.selectors import (
    blasts_due,
    enrollments_due,
    listing_ids_recommended,
    listings_for_lead,
    suppression_exists,
)
from apps.campaigns.serializers import message_log_data
from apps.campaigns.tokens import unsubscribe_token_make, unsubscribe_token_read
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.jobs import enqueue_on_commit
from apps.events.models import Event, EventType
from apps.events.services import event_record
from apps.leads.models import Lead, LeadStatus
from apps.tenants.models import Organization

logger = logging.getLogger(__name__)

# A lead marked with one of these leaves every campaign it is in.
STOP_STATUSES = frozenset({LeadStatus.WON, LeadStatus.LOST, LeadStatus.UNQUALIFIED})
# Due sequence mails one periodic run sends per organization; the rest wait for the next run.
SEQUENCE_RUN_LIMIT = 500
# A visitor message this long after the conversation's previous message starts a new visit: written
# after a mail went out, it is the lead answering us (in the same visit, it is the chat that gave us
# the address going on).
CHAT_VISIT_GAP = timedelta(minutes=30)

# Status order of a message log: a status only moves up, and the bad ends outrank engagement.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENT: 1,
    MessageStatus.DELIVERED: 2,
    MessageStatus.OPENED: 3,
    MessageStatus.CLICKED: 4,
    MessageStatus.FAILED: 5,
    MessageStatus.BOUNCED: 6,
    MessageStatus.UNSUBSCRIBED: 7,
    MessageStatus.COMPLAINED: 8,
}
TIMESTAMP_FIELD = {status: f"{status}_at" for status in MessageStatus.values if status != MessageStatus.QUEUED}
# The event each status records (once per message log): a complaint is the strongest unsubscribe.
EVENT_FOR_STATUS = {
    MessageStatus.DELIVERED: EventType.EMAIL_DELIVERED,
    MessageStatus.OPENED: EventType.EMAIL_OPENED,
    MessageStatus.CLICKED: EventType.EMAIL_CLICKED,
    MessageStatus.BOUNCED: EventType.EMAIL_BOUNCED,
    MessageStatus.UNSUBSCRIBED: EventType.EMAIL_UNSUBSCRIBED,
    MessageStatus.COMPLAINED: EventType.EMAIL_UNSUBSCRIBED,
}
# Postmark bounce types that say the address will never take mail (a soft bounce is only noted).
HARD_BOUNCE_TYPES = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated"})


def _now() -> datetime:
    return timezone.now()


def _organization() -> Organization:
    tenant = getattr(connection, "tenant", None)
    if isinstance(tenant, Organization) and tenant.pk:
        return tenant
    # Under schema_context the connection holds a stand-in tenant without the organization's fields.
    return Organization.objects.get(schema_name=connection.schema_name)


# --- the default welcome sequence -----------------------------------------------------------------


def welcome_sequence_ensure(*, organization: Organization | None = None) -> Campaign | None:
    """Give the current organization its welcome sequence once; returns it when created now, else None.

    Called lazily (first lead, first look at the campaigns API, each periodic email run, seed_demo)
    rather than from provisioning: apps.tenants stays unaware of email, and the marker row makes
    it once per organization for good, so an admin who deletes the sequence does not see it return.
    """
    if EmailSetup.objects.filter(welcome_sequence_created_at__isnull=False).exists():
        return None
    return _welcome_sequence_create(organization=organization or _organization())


@transaction.atomic
def _welcome_sequence_create(*, organization: Organization) -> Campaign | None:
    setup = EmailSetup.objects.select_for_update().filter(pk=1).first()
    if setup is None:
        try:
            with transaction.atomic():
                setup = EmailSetup.objects.create(pk=1)
        except IntegrityError:
            # Another transaction created it first (and held it until it committed).
            setup = EmailSetup.objects.select_for_update().get(pk=1)
    if setup.welcome_sequence_created_at is not None:
        return None
    campaign = Campaign.objects.filter(key=WELCOME_KEY).first()
    if campaign is None:
        campaign = Campaign.objects.create(
            name=WELCOME_NAME,
            kind=CampaignKind.SEQUENCE,
            trigger=CampaignTrigger.LEAD_CREATED,
            status=CampaignStatus.ACTIVE,
            key=WELCOME_KEY,
        )
        CampaignStep.objects.bulk_create(
            CampaignStep(
                campaign=campaign, order=order, delay_days=text.delay_days, subject=text.subject, body=text.body
            )
            for order, text in enumerate(welcome_steps(organization.persona_tone))
        )
    setup.welcome_sequence_created_at = _now()
    setup.save(update_fields=["welcome_sequence_created_at"])
    return campaign


# --- campaigns and steps --------------------------------------------------------------------------


def _campaign_validate(*, kind: str, trigger: str, status: str) -> None:
    if kind not in CampaignKind.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{kind}' is not a campaign kind.", attr="kind")
    if trigger not in CampaignTrigger.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{trigger}' is not a campaign trigger.", attr="trigger")
    if status not in CampaignStatus.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{status}' is not a campaign status.", attr="status")
    if kind == CampaignKind.BLAST and trigger != CampaignTrigger.MANUAL:
        raise ApplicationError(ErrorCode.INVALID, "A blast is sent by hand: its trigger is manual.", attr="trigger")


def _name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise ApplicationError(ErrorCode.INVALID, "A campaign needs a name.", attr="name")
    return name[:200]


@transaction.atomic
def campaign_create(
    *,
    organization: Organization,
    name: str,
    kind: str = CampaignKind.SEQUENCE,
    trigger: str = CampaignTrigger.MANUAL,
    status: str = CampaignStatus.DRAFT,
) -> Campaign:
    """A new campaign, within the plan's `campaigns` limit (the welcome sequence is not counted)."""
    from apps.billing.models import Entitlement
    from apps.billing.services import entitlement_check

    _campaign_validate(kind=kind, trigger=trigger, status=status)
    entitlement_check(organization, Entitlement.CAMPAIGNS)
    return Campaign.objects.create(name=_name(name), kind=kind, trigger=trigger, status=status)


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields: Any) -> Campaign:
    unknown = set(fields) - {"name", "kind", "trigger", "status"}
    if unknown:
        raise TypeError(f"campaign_update() got unexpected fields: {sorted(unknown)}")
    if "name" in fields:
        fields["name"] = _name(fields["name"])
    for field, value in fields.items():
        setattr(campaign, field, value)
    _campaign_validate(kind=campaign.kind, trigger=campaign.trigger, status=campaign.status)
    campaign.save()
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Delete the campaign with its steps and enrollments; its message logs stay (without the campaign)."""
    campaign.delete()


def _templates_check(**sources: str) -> None:
    for attr, source in sources.items():
        try:
            template_check(source)
        except TemplateError as exc:
            raise ApplicationError(ErrorCode.INVALID, f"Template error: {exc}", attr=attr) from None


def _order_conflict(order: int) -> ApplicationError:
    return ApplicationError(ErrorCode.CONFLICT, f"Another step of this campaign has order {order}.", attr="order")


@transaction.atomic
def campaign_step_create(
    *, campaign: Campaign, subject: str, body: str, delay_days: int = 0, order: int | None = None
) -> CampaignStep:
    _templates_check(subject=subject, body=body)
    if order is None:
        last = campaign.steps.aggregate(last=Max("order"))["last"]
        order = 0 if last is None else last + 1
    try:
        with transaction.atomic():
            return CampaignStep.objects.create(
                campaign=campaign, order=order, delay_days=delay_days, subject=subject, body=body
            )
    except IntegrityError:
        raise _order_conflict(order) from None


@transaction.atomic
def campaign_step_update(*, step: CampaignStep, **fields: Any) -> CampaignStep:
    unknown = set(fields) - {"order", "delay_days", "subject", "body"}
    if unknown:
        raise TypeError(f"campaign_step_update() got unexpected fields: {sorted(unknown)}")
    _templates_check(**{key: fields[key] for key in ("subject", "body") if key in fields})
    for field, value in fields.items():
        setattr(step, field, value)
    try:
        with transaction.atomic():
            step.save()
    except IntegrityError:
        raise _order_conflict(step.order) from None
    return step


@transaction.atomic
def campaign_step_delete(*, step: CampaignStep) -> None:
    step.delete()


# --- enrollment -----------------------------------------------------------------------------------


def _enroll_sql(lead_sql: str) -> str:
    table = connection.ops.quote_name(Enrollment._meta.db_table)
    return (
        f"INSERT INTO {table} (lead_id, campaign_id, status, stop_reason, next_send_at, created_at, updated_at) "
        f"SELECT matching.id, %s, %s, '', %s, %s, %s FROM ({lead_sql}) AS matching "
        "ON CONFLICT (lead_id, campaign_id) DO NOTHING"
    )


@transaction.atomic
def campaign_send(*, campaign: Campaign, filters: Mapping[str, Any] | None = None) -> int:
    """Enroll the leads matching `filters` (status, source, q) that have an address and are not suppressed.

    Returns how many were newly enrolled: a lead already enrolled gets nothing again. A draft campaign
    becomes active; the mails go out after commit (blasts in rate-limited batches).
    """
    from apps.leads.selectors import lead_list

    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status == CampaignStatus.PAUSED:
        raise ApplicationError(ErrorCode.CONFLICT, "The campaign is paused; make it active first.", attr="status")
    first = campaign.steps.order_by("order", "id").first()
    if first is None:
        raise ApplicationError(ErrorCode.INVALID, "The campaign has no steps to send.", attr="campaign")
    if campaign.status != CampaignStatus.ACTIVE:
        campaign.status = CampaignStatus.ACTIVE
        campaign.save(update_fields=["status", "updated_at"])
    leads = (
        lead_list(filters=dict(filters or {}))
        .exclude(email="")
        .exclude(email__in=Suppression.objects.values("email"))
        .order_by()
        .values("id")
    )
    lead_sql, lead_params = leads.query.sql_with_params()
    now = _now()
    params = [campaign.pk, EnrollmentStatus.ACTIVE, now + timedelta(days=first.delay_days), now, now]
    with connection.cursor() as cursor:
        # One INSERT … SELECT: a blast to every lead never loads them into Python.
        cursor.execute(_enroll_sql(lead_sql), [*params, *lead_params])
        queued = cursor.rowcount
    if queued:
        _kick(campaign)
    return queued


def _kick(campaign: Campaign) -> None:
    from apps.campaigns.actors import campaign_blast_send, process_email_sequences

    if campaign.kind == CampaignKind.BLAST:
        enqueue_on_commit(campaign_blast_send, campaign.pk)
    else:
        enqueue_on_commit(process_email_sequences)


def _lead_enroll_new(*, lead_id: int) -> int:
    """Enroll a new lead in every active lead_created sequence; day 0 goes out right after commit."""
    from apps.campaigns.actors import send_lead_autoresponder

    # The lead as stored, not as the event tells it: an event may speak of a lead that is not (or no longer) here.
    found = Lead.objects.filter(pk=lead_id).values_list("email", flat=True).first()
    if found is None:
        return 0
    has_email = bool(found)
    welcome_sequence_ensure()
    now = _now()
    rows = []
    campaigns = Campaign.objects.filter(
        kind=CampaignKind.SEQUENCE, trigger=CampaignTrigger.LEAD_CREATED, status=CampaignStatus.ACTIVE
    ).prefetch_related("steps")
    for campaign in campaigns:
        steps = sorted(campaign.steps.all(), key=lambda step: (step.order, step.pk))
        if steps:
            rows.append(
                Enrollment(lead_id=lead_id, campaign=campaign, next_send_at=now + timedelta(days=steps[0].delay_days))
            )
    Enrollment.objects.bulk_create(rows, ignore_conflicts=True)
    if has_email and any(row.next_send_at <= now for row in rows):
        enqueue_on_commit(send_lead_autoresponder, lead_id)
    return len(rows)


def enrollments_stop(*, lead_ids: list[int], reason: str) -> int:
    """Take leads out of every campaign they are active in."""
    return Enrollment.objects.filter(lead_id__in=lead_ids, status=EnrollmentStatus.ACTIVE).update(
        status=EnrollmentStatus.STOPPED, stop_reason=reason, next_send_at=None, updated_at=_now()
    )


def _lead_answered_in_chat(*, lead_id: int, conversation_id: int, message_id: int, written_at: datetime) -> int:
    from apps.chat.models import Message

    emailed = Enrollment.objects.filter(
        lead_id=lead_id, status=EnrollmentStatus.ACTIVE, last_sent_at__isnull=False, last_sent_at__lte=written_at
    )
    if not emailed.exists():
        return 0
    previous = (
        Message.objects.filter(conversation_id=conversation_id, created_at__lte=written_at)
        .exclude(pk=message_id)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if previous is not None and written_at - previous < CHAT_VISIT_GAP:
        return 0  # the visit that gave us the address is going on
    return enrollments_stop(lead_ids=[lead_id], reason=StopReason.REPLIED)


def email_event_hook(event: Event) -> None:
    """The event hook (inside the event's transaction): enroll new leads, let leads leave their campaigns."""
    data = event.data or {}
    if event.type in (EventType.LEAD_CREATED, EventType.LEAD_STATUS_CHANGED, EventType.LEAD_UPDATED):
        lead = data.get("lead") or {}
        lead_id = lead.get("id")
        if not isinstance(lead_id, int):
            return
        if event.type == EventType.LEAD_CREATED:
            _lead_enroll_new(lead_id=lead_id)
        elif event.type == EventType.LEAD_STATUS_CHANGED and lead.get("status") in STOP_STATUSES:
            enrollments_stop(lead_ids=[lead_id], reason=StopReason.STATUS)
        elif event.type == EventType.LEAD_UPDATED and lead.get("email"):
            _lead_email_known(lead_id=lead_id)
    elif event.type == EventType.CONVERSATION_MESSAGE:
        conversation, message = data.get("conversation") or {}, data.get("message") or {}
        written_at = parse_datetime(message.get("created_at") or "")
        if message.get("role") == "visitor" and isinstance(conversation.get("lead"), int) and written_at:
            _lead_answered_in_chat(
                lead_id=conversation["lead"],
                conversation_id=conversation.get("id"),
                message_id=message.get("id"),
                written_at=written_at,
            )


def _lead_email_known(*, lead_id: int) -> None:
    # A lead created without an address (a chat that gave none yet) waits in its sequences; once the
    # address is known, what is due goes out now rather than at the next periodic run.
    from apps.campaigns.actors import send_lead_autoresponder

    if enrollments_due(now=_now(), kind=CampaignKind.SEQUENCE, lead_id=lead_id).exists():
        enqueue_on_commit(send_lead_autoresponder, lead_id)


# --- sending --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    log_id: int
    mail: OutgoingMail


def _advance(enrollment: Enrollment, step: CampaignStep, following: CampaignStep | None, now: datetime) -> None:
    enrollment.last_step_order = step.order
    enrollment.last_sent_at = now
    if following is None:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.next_send_at = None
    else:
        enrollment.next_send_at = now + timedelta(days=max(0, following.delay_days - step.delay_days))
    enrollment.save(update_fields=["last_step_order", "last_sent_at", "status", "next_send_at", "updated_at"])


def _stop(enrollment: Enrollment, reason: str) -> None:
    enrollment.status = EnrollmentStatus.STOPPED
    enrollment.stop_reason = reason
    enrollment.next_send_at = None
    enrollment.save(update_fields=["status", "stop_reason", "next_send_at", "updated_at"])


@transaction.atomic
def _enrollment_step_prepare(*, enrollment_id: int) -> _Prepared | None:
    """Claim the enrollment's due step: move the enrollment on and commit its MessageLog (the idempotency key)."""
    now = _now()
    enrollment = (
        Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("lead", "campaign")
        .filter(pk=enrollment_id, status=EnrollmentStatus.ACTIVE, next_send_at__lte=now)
        .first()
    )
    if enrollment is None or enrollment.campaign.status != CampaignStatus.ACTIVE:
        return None  # not due, done, or another worker holds it
    lead, campaign = enrollment.lead, enrollment.campaign
    if not lead.email:
        return None  # waits until the lead gives an address
    if suppression_exists(email=lead.email):
        _stop(enrollment, StopReason.SUPPRESSED)
        return None
    steps = [
        step
        for step in campaign.steps.order_by("order", "id")
        if enrollment.last_step_order is None or step.order > enrollment.last_step_order
    ]
    if not steps:
        enrollment.status, enrollment.next_send_at = EnrollmentStatus.COMPLETED, None
        enrollment.save(update_fields=["status", "next_send_at", "updated_at"])
        return None
    step = steps[0]
    _advance(enrollment, step, steps[1] if len(steps) > 1 else None, now)
    log = MessageLog(lead=lead, campaign=campaign, step=step, to=lead.email, subject=step.subject[:300])
    try:
        with transaction.atomic():
            log.save()
    except IntegrityError:
        # Sent (or being sent) by an earlier try of this job: never twice. The enrollment still moves on.
        return None
    organization = _organization()
    token = unsubscribe_token_make(
        organization_id=organization.pk, schema=connection.schema_name, email=lead.email, message_log_id=log.pk
    )
    unsubscribe_url = public_url(f"/unsubscribe/{token}/")
    listings = listings_for_lead(attributes=lead.attributes or {}, exclude_ids=listing_ids_recommended(lead=lead))
    context = mail_context(lead=lead, organization=organization, listings=listings, unsubscribe_url=unsubscribe_url)
    try:
        rendered = mail_render(subject=step.subject, body=step.body, context=context)
    except TemplateError as exc:
        _status_set(log, MessageStatus.FAILED, now)
        log.error = f"Template error: {exc}"
        log.save()
        return None
    log.subject = rendered.subject
    log.listing_ids = [listing.pk for listing in listings]
    log.save(update_fields=["subject", "listing_ids"])
    mail = OutgoingMail(
        to=lead.email,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        from_name=f"{organization.persona_name} at {organization.name}",
        unsubscribe_url=unsubscribe_url,
        metadata={"org": connection.schema_name, "message_log": str(log.pk)},
        tag=f"campaign-{campaign.pk}",
    )
    return _Prepared(log_id=log.pk, mail=mail)


def _deliver(prepared: _Prepared) -> MessageLog:
    """Hand a committed message to the provider and record the outcome (outside any transaction)."""
    try:
        result = mail_send(prepared.mail)
    except SendFailed as exc:
        logger.warning("Mail %s to %s failed: %s", prepared.log_id, prepared.mail.to, exc)
        MessageLog.objects.filter(pk=prepared.log_id).update(
            status=MessageStatus.FAILED, failed_at=_now(), error=str(exc)[:2000]
        )
    else:
        MessageLog.objects.filter(pk=prepared.log_id).update(
            sent_at=_now(), provider_message_id=result.provider_message_id
        )
        # A tracking event may have moved the status on already; queued → sent only.
        MessageLog.objects.filter(pk=prepared.log_id, status=MessageStatus.QUEUED).update(status=MessageStatus.SENT)
    return MessageLog.objects.get(pk=prepared.log_id)


def enrollment_step_send(*, enrollment_id: int) -> MessageLog | None:
    """Send the enrollment's due step, at most once; returns its message log, or None when nothing went out."""
    prepared = _enrollment_step_prepare(enrollment_id=enrollment_id)
    return None if prepared is None else _deliver(prepared)


def _send_all(enrollment_ids: list[int]) -> int:
    """Send each enrollment's due step; returns how many mails the provider took."""
    logs = [enrollment_step_send(enrollment_id=enrollment_id) for enrollment_id in enrollment_ids]
    return sum(1 for log in logs if log is not None and log.status != MessageStatus.FAILED)


def lead_autoresponder_send(*, lead_id: int) -> int:
    """What is due for this lead in its sequences (day 0 of a new lead), now."""
    due = enrollments_due(now=_now(), kind=CampaignKind.SEQUENCE, lead_id=lead_id)
    return _send_all(list(due.values_list("pk", flat=True)))


def email_sequences_run(*, limit: int = SEQUENCE_RUN_LIMIT) -> int:
    """Send the organization's due sequence steps (at most `limit`); returns how many mails went out."""
    due = enrollments_due(now=_now(), kind=CampaignKind.SEQUENCE)
    return _send_all(list(due.values_list("pk", flat=True)[:limit]))


@dataclass(frozen=True)
class BlastBatch:
    sent: int
    more: bool  # more leads are due: the next batch may go after `wait_seconds`
    wait_seconds: float


def blast_batch_interval() -> float:
    """Seconds between two batches of a blast: EMAIL_BLAST_BATCH_SIZE mails at EMAIL_BLAST_RATE_PER_MINUTE."""
    return settings.EMAIL_BLAST_BATCH_SIZE * 60.0 / max(1, settings.EMAIL_BLAST_RATE_PER_MINUTE)


@transaction.atomic
def _blast_batch_claim(*, campaign_id: int) -> list[int] | None:
    now = _now()
    campaign = (
        Campaign.objects.select_for_update(skip_locked=True)
        .filter(pk=campaign_id, kind=CampaignKind.BLAST, status=CampaignStatus.ACTIVE)
        .first()
    )
    if campaign is None or (campaign.next_batch_at is not None and campaign.next_batch_at > now):
        return None  # paused, deleted, being claimed, or the rate limit says not yet
    due = enrollments_due(now=now).filter(campaign_id=campaign_id)
    ids = list(due.values_list("pk", flat=True)[: settings.EMAIL_BLAST_BATCH_SIZE])
    if ids:
        campaign.next_batch_at = now + timedelta(seconds=blast_batch_interval())
        campaign.save(update_fields=["next_batch_at", "updated_at"])
    return ids


def campaign_blast_batch(*, campaign_id: int) -> BlastBatch:
    """Send the blast's next batch when its rate limit allows; say whether more is due."""
    ids = _blast_batch_claim(campaign_id=campaign_id)
    if not ids:
        return BlastBatch(sent=0, more=False, wait_seconds=0.0)
    sent = _send_all(ids)
    more = enrollments_due(now=_now()).filter(campaign_id=campaign_id).exists()
    logger.info("Blast %s: batch of %d sent, more due: %s", campaign_id, sent, more)
    return BlastBatch(sent=sent, more=more, wait_seconds=blast_batch_interval())


def blast_continue(*, campaign_id: int, batch: BlastBatch) -> None:
    """Queue the blast's next batch after its wait (the rate limit)."""
    from apps.campaigns.actors import campaign_blast_send

    if batch.more:
        enqueue_on_commit(campaign_blast_send, campaign_id, delay_ms=int(batch.wait_seconds * 1000))


def email_automations_run(*, continue_blasts: bool = False) -> int:
    """The periodic email work of the current organization: welcome sequence, due steps, due blast batches.

    A blast whose chain of jobs was lost (a restarted in-memory broker) is picked up here, since its
    next batch is simply due; `continue_blasts` (the worker's run) queues the rest of it.
    """
    welcome_sequence_ensure()
    sent = email_sequences_run()
    for campaign_id in list(blasts_due(now=_now()).values_list("pk", flat=True)):
        batch = campaign_blast_batch(campaign_id=campaign_id)
        sent += batch.sent
        if continue_blasts:
            blast_continue(campaign_id=campaign_id, batch=batch)
    return sent


# --- tracking, suppression, unsubscribe ----------------------------------------------------------


def _status_set(log: MessageLog, status: str, at: datetime) -> bool:
    """Stamp `status` on the log (first time only) and move its status up; True when the stamp is new."""
    field = TIMESTAMP_FIELD.get(status)
    first_time = field is not None and getattr(log, field) is None
    if first_time:
        setattr(log, field, at)
    if STATUS_RANK[status] > STATUS_RANK[MessageStatus(log.status)]:
        log.status = status
    return first_time


def _record_email_event(log: MessageLog, event_type: str) -> None:
    from apps.leads.serializers import lead_data

    event_record(type=event_type, data={"message_log": message_log_data(log), "lead": lead_data(log.lead)})


@transaction.atomic
def suppression_add(*, email: str, reason: str, message_log: MessageLog | None = None) -> tuple[Suppression, bool]:
    """Never mail `email` again: the suppression, and every lead with that address leaves its campaigns."""
    email = (email or "").strip().lower()
    if not email:
        raise ApplicationError(ErrorCode.INVALID, "An email address is required.", attr="email")
    if reason not in SuppressionReason.values:
        raise ApplicationError(ErrorCode.INVALID, f"'{reason}' is not a suppression reason.", attr="reason")
    suppression, created = Suppression.objects.get_or_create(
        email=email, defaults={"reason": reason, "message_log": message_log}
    )
    stop_reason = {
        SuppressionReason.UNSUBSCRIBED: StopReason.UNSUBSCRIBED,
        SuppressionReason.BOUNCED: StopReason.BOUNCED,
        SuppressionReason.COMPLAINED: StopReason.COMPLAINED,
    }.get(reason, StopReason.SUPPRESSED)
    enrollments_stop(lead_ids=list(Lead.objects.filter(email=email).values_list("pk", flat=True)), reason=stop_reason)
    return suppression, created


@transaction.atomic
def _message_log_outcome(*, log_id: int, status: str, at: datetime, suppress: str | None, note: str = "") -> bool:
    """Apply an outcome to a log in the current schema: status, stamp, event (first time), suppression."""
    log = MessageLog.objects.select_for_update(of=("self",)).select_related("lead").filter(pk=log_id).first()
    if log is None:
        return False
    first_time = _status_set(log, status, at)
    if note:
        log.error = note[:2000]
    log.save()
    if suppress:
        suppression_add(email=log.to, reason=suppress, message_log=log)
    event_type = EVENT_FOR_STATUS.get(status)
    if first_time and event_type:
        _record_email_event(log, event_type)
    return first_time


def _tracking_outcome(event) -> tuple[str, str | None, str] | None:
    """(status, suppression reason, note) for an anymail tracking event, or None when it changes nothing."""
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    kind = event.event_type
    if kind in ("delivered", "opened", "clicked"):
        return kind, None, ""
    if kind in ("bounced", "rejected", "failed"):
        # Anymail calls Postmark's BadEmailAddress and ManuallyDeactivated bounces "rejected": they are
        # hard bounces all the same, and Inactive means Postmark will not send to the address again.
        bounce_type = esp_event.get("Type") or esp_event.get("SuppressionReason") or ""
        hard = bounce_type in HARD_BOUNCE_TYPES or esp_event.get("Inactive") is True
        if hard or (kind == "bounced" and not esp_event):
            return MessageStatus.BOUNCED, SuppressionReason.BOUNCED, event.description or bounce_type
        if kind == "bounced":
            return None  # a soft bounce: the provider tries again
        return MessageStatus.FAILED, None, event.description or event.mta_response or kind
    if kind == "complained":
        return MessageStatus.COMPLAINED, SuppressionReason.COMPLAINED, ""
    if kind == "unsubscribed":
        return MessageStatus.UNSUBSCRIBED, SuppressionReason.UNSUBSCRIBED, ""
    return None


def message_tracking_apply(*, event) -> str:
    """Apply a provider's tracking event (anymail's normalized event) in the organization that sent the mail.

    Each mail carries {"org": <schema>, "message_log": <id>} as metadata, which the provider hands back
    with every event: no public-schema routing table is needed, and the provider's message id must
    match the log's, so metadata pointing at another log is ignored. Returns what happened, for logs.
    """
    metadata = event.metadata or {}
    schema, log_id = metadata.get("org"), str(metadata.get("message_log") or "")
    if not schema or not (log_id.isascii() and log_id.isdigit()):  # isdigit alone takes "²", int() does not
        return "ignored: not one of our campaign mails"
    if schema == settings.PUBLIC_SCHEMA_NAME or not Organization.objects.filter(schema_name=schema).exists():
        return f"ignored: no organization {schema}"
    outcome = _tracking_outcome(event)
    if outcome is None:
        return f"ignored: {event.event_type}"
    status, suppress, note = outcome
    at = event.timestamp or _now()
    with schema_context(schema):
        log = MessageLog.objects.filter(pk=int(log_id)).only("provider_message_id").first()
        if log is None:
            return "ignored: unknown message log"
        if event.message_id and log.provider_message_id and event.message_id != log.provider_message_id:
            return "ignored: the message id does not match"
        if event.message_id and not log.provider_message_id:
            # The event came before the send recorded its id.
            MessageLog.objects.filter(pk=log.pk, provider_message_id="").update(provider_message_id=event.message_id)
        _message_log_outcome(log_id=log.pk, status=status, at=at, suppress=suppress, note=note)
    return f"applied: {status}"


@dataclass(frozen=True)
class UnsubscribeTarget:
    organization: Organization
    email: str
    message_log_id: int | None


def unsubscribe_target(*, token: str) -> UnsubscribeTarget:
    """Who a signed unsubscribe link is for; a forged or altered token is refused."""
    request = unsubscribe_token_read(token)
    if request is None:
        raise ApplicationError(ErrorCode.INVALID, "This unsubscribe link is not valid.", attr="token")
    organization = Organization.objects.filter(schema_name=request.schema, pk=request.organization_id).first()
    if organization is None or organization.is_public:
        raise ApplicationError(ErrorCode.NOT_FOUND, "This unsubscribe link belongs to no organization any more.")
    return UnsubscribeTarget(organization=organization, email=request.email, message_log_id=request.message_log_id)


def unsubscribe_apply(*, token: str) -> tuple[UnsubscribeTarget, bool]:
    """One-click unsubscribe (RFC 8058): suppress the address in its organization; (target, newly unsubscribed)."""
    target = unsubscribe_target(token=token)
    with schema_context(target.organization.schema_name), transaction.atomic():
        _, created = suppression_add(email=target.email, reason=SuppressionReason.UNSUBSCRIBED)
        log = (
            MessageLog.objects.filter(pk=target.message_log_id, to=target.email).first()
            if target.message_log_id
            else None
        )
        if log is not None:
            if created:
                Suppression.objects.filter(email=target.email).update(message_log=log)
            _message_log_outcome(log_id=log.pk, status=MessageStatus.UNSUBSCRIBED, at=_now(), suppress=None)
    return target, created
