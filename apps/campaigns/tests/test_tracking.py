"""The provider's tracking webhook: basic auth, status moves, email.* events in the right organization, suppression."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from apps.campaigns.models import Enrollment, MessageLog, Suppression
from apps.campaigns.services import email_sequences_run
from apps.campaigns.tests.conftest import WEBHOOK_SECRET, basic_auth, new_lead
from apps.events.models import Event
from apps.leads.serializers import lead_data

pytestmark = pytest.mark.django_db
URL = "/anymail/postmark/tracking/"


def sent_mail(organization, email: str = "ana@example.com") -> MessageLog:
    """A lead of `organization` and its day-0 mail, with the id Postmark gave it."""
    with tenant_context(organization):
        new_lead(email=email)
        assert email_sequences_run() == 1
        log = MessageLog.objects.get(to=email)
        log.provider_message_id = str(uuid.uuid4())
        log.save()
        return log


def postmark_event(log: MessageLog, schema: str, record_type: str, **fields) -> dict:
    """A Postmark webhook body for `log`, carrying the metadata the mail was sent with."""
    body = {
        "RecordType": record_type,
        "MessageID": log.provider_message_id,
        "Recipient": log.to,
        "Metadata": {"org": schema, "message_log": str(log.pk)},
        "MessageStream": "outbound",
    }
    body.update(fields)
    return body


def post(body: dict, credentials: str | None = WEBHOOK_SECRET):
    headers = {"HTTP_AUTHORIZATION": basic_auth(credentials)} if credentials else {}
    return Client(HTTP_HOST="localhost").post(URL, body, content_type="application/json", **headers)


def refreshed(organization, log: MessageLog) -> MessageLog:
    with tenant_context(organization):
        return MessageLog.objects.get(pk=log.pk)


def events(organization, type_: str | None = None) -> list[Event]:
    with tenant_context(organization):
        queryset = Event.objects.filter(type__startswith="email.").order_by("id")
        return list(queryset.filter(type=type_) if type_ else queryset)


def test_delivery_with_the_right_credentials_moves_the_status_and_records_the_event(org):
    log = sent_mail(org)
    response = post(postmark_event(log, "acme", "Delivery", DeliveredAt="2030-03-04T09:00:05Z"))
    assert response.status_code == 200
    log = refreshed(org, log)
    assert log.status == "delivered" and log.delivered_at.isoformat() == "2030-03-04T09:00:05+00:00"
    [event] = events(org)
    with tenant_context(org):
        assert event.type == "email.delivered"
        assert event.data == {
            "message_log": {
                "id": log.pk,
                "lead": log.lead_id,
                "campaign": log.campaign_id,
                "step": log.step_id,
                "to": "ana@example.com",
                "subject": "Welcome to Acme Realty, Ana!",
                "status": "delivered",
                "provider_message_id": log.provider_message_id,
                "created_at": log.created_at.isoformat().replace("+00:00", "Z"),
            },
            "lead": lead_data(log.lead),
        }


@pytest.mark.parametrize("credentials", [None, "postmark:wrong", "other:tracking-secret"])
def test_missing_or_wrong_credentials_are_refused_and_change_nothing(org, credentials):
    log = sent_mail(org)
    response = post(postmark_event(log, "acme", "Bounce", Type="HardBounce", Inactive=True), credentials=credentials)
    assert response.status_code == 400
    assert refreshed(org, log).status == "sent"
    assert events(org) == []
    with tenant_context(org):
        assert not Suppression.objects.exists()


def test_without_a_configured_secret_every_call_is_refused(org, settings):
    log = sent_mail(org)
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    assert post(postmark_event(log, "acme", "Delivery"), credentials=None).status_code == 400
    assert post(postmark_event(log, "acme", "Delivery"), credentials="a:b").status_code == 400
    assert refreshed(org, log).status == "sent"


def test_a_hard_bounce_suppresses_the_address_and_stops_its_sequences(org, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    from apps.webhooks.models import WebhookDelivery
    from apps.webhooks.services import webhook_endpoint_create

    with tenant_context(org):
        webhook_endpoint_create(organization=org, url="http://127.0.0.1:9/hook", event_types=["email.bounced"])
    log = sent_mail(org)
    body = postmark_event(
        log, "acme", "Bounce", Type="HardBounce", TypeCode=1, Email=log.to, Inactive=True,
        Description="The server was unable to deliver your message", BouncedAt="2030-03-04T09:01:00Z",
    )  # fmt: skip
    del body["Recipient"]
    assert post(body).status_code == 200
    log = refreshed(org, log)
    assert log.status == "bounced" and log.bounced_at is not None
    assert log.error == "The server was unable to deliver your message"
    [event] = events(org)
    assert event.type == "email.bounced" and event.data["message_log"]["status"] == "bounced"
    with tenant_context(org):
        suppression = Suppression.objects.get()
        assert (suppression.email, suppression.reason, suppression.message_log_id) == (log.to, "bounced", log.pk)
        enrollment = Enrollment.objects.get()
        assert (enrollment.status, enrollment.stop_reason) == ("stopped", "bounced")
        # The outbox tells subscribed endpoints.
        assert WebhookDelivery.objects.get().event_type == "email.bounced"


@pytest.mark.parametrize("bounce_type", ["BadEmailAddress", "ManuallyDeactivated"])
def test_bounces_anymail_calls_rejected_suppress_too(org, bounce_type):
    # Anymail files these under "rejected"; they were logged as failed and the sequence went on mailing.
    log = sent_mail(org)
    assert post(postmark_event(log, "acme", "Bounce", Type=bounce_type, Email=log.to, Inactive=True)).status_code == 200
    assert refreshed(org, log).status == "bounced"
    with tenant_context(org):
        assert Suppression.objects.get().email == log.to
        assert Enrollment.objects.get().status == "stopped"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        b'"a string"',
        b'{"RecordType": "Delivery", "MessageID": "x", "Recipient": "a@b.co", "Metadata": null}',
        b'{"RecordType": "Bounce", "Type": "HardBounce", "MessageID": "x", "Email": "a@b.co", '
        b'"BouncedAt": "2026-13-45T99:00:00Z"}',
        b'{"FromFull": {"Email": "a@b.co"}, "Subject": "an inbound message"}',
    ],
)
def test_a_body_that_is_no_tracking_event_is_a_400_not_a_500(org, body):
    # Postmark retries a 5xx for hours; these were 500s raised inside anymail's parser.
    response = Client(HTTP_HOST="localhost").post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=basic_auth(WEBHOOK_SECRET)
    )
    assert response.status_code == 400


def test_metadata_with_a_digit_int_refuses_is_ignored(org):
    log = sent_mail(org)
    body = postmark_event(log, "acme", "Delivery")
    body["Metadata"]["message_log"] = "²"  # str.isdigit() is true, int() fails
    assert post(body).status_code == 200
    assert refreshed(org, log).status == "sent"


def test_a_soft_bounce_changes_nothing(org):
    log = sent_mail(org)
    assert post(postmark_event(log, "acme", "Bounce", Type="SoftBounce", Inactive=False)).status_code == 200
    assert refreshed(org, log).status == "sent"
    with tenant_context(org):
        assert not Suppression.objects.exists()
    assert events(org) == []


def test_a_spam_complaint_suppresses_and_counts_as_unsubscribing(org):
    log = sent_mail(org)
    assert post(postmark_event(log, "acme", "SpamComplaint", Type="SpamComplaint", Email=log.to)).status_code == 200
    assert refreshed(org, log).status == "complained"
    [event] = events(org)
    assert event.type == "email.unsubscribed" and event.data["message_log"]["status"] == "complained"
    with tenant_context(org):
        assert Suppression.objects.get().reason == "complained"


def test_opens_and_clicks_move_forward_once_and_late_deliveries_do_not_move_back(org):
    log = sent_mail(org)
    for record in ("Open", "Open", "Click"):
        assert post(postmark_event(log, "acme", record, ReceivedAt="2030-03-04T10:00:00Z")).status_code == 200
    assert post(postmark_event(log, "acme", "Delivery", DeliveredAt="2030-03-04T09:00:05Z")).status_code == 200
    log = refreshed(org, log)
    assert log.status == "clicked"
    assert log.opened_at and log.clicked_at and log.delivered_at
    # One event per status, however often the provider repeats it.
    assert [event.type for event in events(org)] == ["email.opened", "email.clicked", "email.delivered"]


def test_an_unsubscribe_at_the_provider_suppresses(org):
    log = sent_mail(org)
    body = postmark_event(
        log, "acme", "SubscriptionChange", SuppressSending=True, SuppressionReason="ManualSuppression",
        ChangedAt="2030-03-04T11:00:00Z",
    )  # fmt: skip
    assert post(body).status_code == 200
    assert refreshed(org, log).status == "unsubscribed"
    assert [event.type for event in events(org)] == ["email.unsubscribed"]


def test_events_land_in_the_organization_the_mail_came_from(org, other_org):
    acme_log = sent_mail(org)
    globex_log = sent_mail(other_org)
    assert acme_log.pk == globex_log.pk  # the same id in two schemas: the metadata's organization decides
    assert post(postmark_event(globex_log, "globex", "Bounce", Type="HardBounce", Inactive=True)).status_code == 200
    assert refreshed(other_org, globex_log).status == "bounced"
    assert refreshed(org, acme_log).status == "sent"
    assert events(org) == []
    with tenant_context(org):
        assert not Suppression.objects.exists()


def test_metadata_pointing_at_another_message_is_ignored(org):
    log = sent_mail(org)
    other = sent_mail(org, email="bo@example.com")
    forged = postmark_event(log, "acme", "Bounce", Type="HardBounce", Inactive=True)
    forged["Metadata"]["message_log"] = str(other.pk)  # the provider's message id is still `log`'s
    assert post(forged).status_code == 200
    assert refreshed(org, other).status == "sent" and refreshed(org, log).status == "sent"


@pytest.mark.parametrize(
    "metadata", [{}, {"org": "nobody", "message_log": "1"}, {"org": "public", "message_log": "1"}, {"org": "acme"}]
)
def test_events_of_unknown_mail_are_acknowledged_and_ignored(org, metadata):
    log = sent_mail(org)
    body = postmark_event(log, "acme", "Delivery")
    body["Metadata"] = metadata
    assert post(body).status_code == 200
    assert refreshed(org, log).status == "sent"
