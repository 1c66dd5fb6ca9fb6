"""django-anymail's Postmark backend against a local fake Postmark API: what goes over the wire, and failures."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from apps.campaigns.models import MessageLog
from apps.campaigns.services import email_sequences_run
from apps.campaigns.tests.conftest import add_listings, new_lead

pytestmark = pytest.mark.django_db


def test_mail_goes_through_postmark_with_one_click_unsubscribe_headers(org, fake_postmark):
    with tenant_context(org):
        add_listings()
        new_lead(areas=["Austin"], budget_max=450_000)
        assert email_sequences_run() == 1
        log = MessageLog.objects.get()
    [request] = fake_postmark.sent()
    assert (request.method, request.path) == ("POST", "/email")
    assert request.headers["x-postmark-server-token"] == fake_postmark.token
    assert request.headers["content-type"].startswith("application/json")
    body = request.body
    assert body["To"] == "ana@example.com"
    assert body["From"] == "Ava at Acme Realty <assistant@platform.test>"
    assert body["Subject"] == "Welcome to Acme Realty, Ana!"
    assert "Sunny house with garden" in body["TextBody"] and "<html" in body["HtmlBody"]
    assert body["TrackOpens"] is True and body["TrackLinks"] == "HtmlAndText"
    # The way back for tracking events: the organization's schema and the log's id.
    assert body["Metadata"] == {"org": "acme", "message_log": str(log.pk)}
    unsubscribe = request.header("List-Unsubscribe")
    assert unsubscribe.startswith("<http://localhost:8000/unsubscribe/") and unsubscribe.endswith("/>")
    assert request.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    # The provider's id is kept, so its tracking events can be matched to the log.
    assert (log.status, log.provider_message_id) == ("sent", request.message_id)


def test_a_refused_send_is_logged_as_failed_and_never_retried(org, fake_postmark):
    fake_postmark.fail_next(422, 300, "Invalid 'To' address: 'ana@example.com'.")
    with tenant_context(org):
        new_lead()
        assert email_sequences_run() == 0
        log = MessageLog.objects.get()
        assert log.status == "failed" and "Invalid 'To' address" in log.error and log.failed_at
        assert email_sequences_run() == 0  # day 0 was tried once; at most once
    assert len(fake_postmark.requests) == 1


def test_a_wrong_server_token_fails_the_send(org, fake_postmark, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "POSTMARK_SERVER_TOKEN": "not-the-token"}
    with tenant_context(org):
        new_lead()
        email_sequences_run()
        assert MessageLog.objects.get().status == "failed"
    assert fake_postmark.sent() == []


def test_an_unreachable_provider_fails_the_send(org, fake_postmark, settings):
    fake_postmark.stop()
    with tenant_context(org):
        new_lead()
        email_sequences_run()
        log = MessageLog.objects.get()
        assert log.status == "failed" and log.error
