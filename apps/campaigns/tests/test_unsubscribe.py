"""One-click unsubscribe (RFC 8058): the signed link in every mail, its page, forged tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.core.signing import Signer
from django.test import Client
from django_tenants.utils import tenant_context

from apps.campaigns.models import Enrollment, MessageLog, Suppression
from apps.campaigns.services import email_sequences_run
from apps.campaigns.tests.conftest import new_lead
from apps.campaigns.tokens import SALT, unsubscribe_token_make
from apps.events.models import Event

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def unsubscribe_path(message) -> str:
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "localhost:8000")  # the public host
    return parts.path


def public() -> Client:
    return Client(HTTP_HOST="localhost", enforce_csrf_checks=True)


def test_one_post_unsubscribes_at_once_and_nothing_more_is_sent(org):
    with time_machine.travel(T0, tick=False) as clock:
        with tenant_context(org):
            lead = new_lead()
            email_sequences_run()
        [message] = mail.outbox
        # What a mailbox provider sends for RFC 8058: a POST with this body, no cookie, no CSRF token.
        response = public().post(
            unsubscribe_path(message),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200
        assert b"You are unsubscribed" in response.content
        clock.move_to(T0 + timedelta(days=30))
        with tenant_context(org):
            assert email_sequences_run() == 0
            suppression = Suppression.objects.get()
            log = MessageLog.objects.get()
            assert (suppression.email, suppression.reason, suppression.message_log) == (lead.email, "unsubscribed", log)
            assert log.status == "unsubscribed" and log.unsubscribed_at is not None
            [event] = Event.objects.filter(type="email.unsubscribed")
            assert event.data["message_log"]["id"] == log.pk and event.data["lead"]["id"] == lead.pk
            assert Enrollment.objects.get().stop_reason == "unsubscribed"
    assert len(mail.outbox) == 1


def test_a_second_post_is_harmless(org):
    with tenant_context(org):
        new_lead()
        email_sequences_run()
    path = unsubscribe_path(mail.outbox[0])
    assert public().post(path).status_code == 200
    assert public().post(path).status_code == 200
    with tenant_context(org):
        assert Suppression.objects.count() == 1
        assert Event.objects.filter(type="email.unsubscribed").count() == 1


def test_the_page_shows_a_button_and_a_get_changes_nothing(org):
    with tenant_context(org):
        new_lead()
        email_sequences_run()
    path = unsubscribe_path(mail.outbox[0])
    page = public().get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Realty" in html and "a**@example.com" in html
    assert '<form method="post">' in html and "Unsubscribe</button>" in html
    with tenant_context(org):
        assert not Suppression.objects.exists()
    # The page's button posts the form to the same URL.
    assert public().post(path, {}).status_code == 200
    with tenant_context(org):
        assert Suppression.objects.exists()


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        # Signed with another key: a forger knows the format but not SECRET_KEY.
        Signer(key="not-our-secret", salt=SALT).sign_object({"o": 1, "s": "acme", "e": "x@example.com", "m": 1}),
        # Our signature, another payload: altered.
        None,
    ],
)
def test_a_forged_token_is_refused(org, token):
    if token is None:
        # Another address's payload under ana's signature ("payload:timestamp:signature").
        good = unsubscribe_token_make(organization_id=org.pk, schema="acme", email="ana@example.com", message_log_id=1)
        other = unsubscribe_token_make(organization_id=org.pk, schema="acme", email="bo@example.com", message_log_id=1)
        token = other.partition(":")[0] + ":" + good.partition(":")[2]
        assert token not in (good, other)
    for method in ("get", "post"):
        response = getattr(public(), method)(f"/unsubscribe/{token}/")
        assert response.status_code == 400
        assert b"Link not valid" in response.content
    with tenant_context(org):
        assert not Suppression.objects.exists()


def test_a_signed_token_holding_a_nul_is_refused_not_looked_up(org):
    # Only a holder of SECRET_KEY can make one; it reached PostgreSQL as a schema name (a 500).
    token = unsubscribe_token_make(organization_id=org.pk, schema="ac\x00me", email="a@b.test", message_log_id=1)
    assert public().post(f"/unsubscribe/{token}/").status_code == 400


def test_a_token_for_a_deleted_organization_is_not_found(org):
    gone = unsubscribe_token_make(organization_id=org.pk, schema="gone", email="ana@example.com", message_log_id=1)
    assert public().post(f"/unsubscribe/{gone}/").status_code == 404
    # The same schema name, but another organization (a deleted one whose slug was taken again).
    reused = unsubscribe_token_make(organization_id=org.pk + 1000, schema="acme", email="a@b.test", message_log_id=1)
    assert public().post(f"/unsubscribe/{reused}/").status_code == 404
    with tenant_context(org):
        assert not Suppression.objects.exists()


def test_unsubscribing_in_one_organization_leaves_the_other_alone(org, other_org):
    with tenant_context(org):
        new_lead()
        email_sequences_run()
    public().post(unsubscribe_path(mail.outbox[0]))
    with tenant_context(other_org):
        new_lead()
        assert email_sequences_run() == 1
        assert not Suppression.objects.exists()
    with tenant_context(org):
        assert Suppression.objects.count() == 1
