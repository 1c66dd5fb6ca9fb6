"""analytics_summary against a seeded history: exact numbers, the window, bounded queries and the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.analytics.selectors import analytics_summary
from apps.campaigns.models import MessageLog
from apps.chat.models import Conversation, Message
from apps.leads.models import Lead, LeadStatusChange
from apps.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def _at(model, pk, field, when):
    # auto_now_add ignores a given value: move the row in time afterwards.
    model.objects.filter(pk=pk).update(**{field: when})


def seed(copies: int = 1, *, offset: int = 0) -> None:
    """One unit of history per copy, inside the window (today and 2 days ago) plus rows 40 days old.

    Per copy, in the last 7 days: 3 conversations (1 with a lead), 7 messages (3 visitor, 3 assistant,
    1 agent), 4 leads (chat/new, chat/qualified, facebook/won, api/lost that was qualified before),
    4 webhook deliveries (2 succeeded, 1 dead, 1 pending), 4 mails (3 sent: 2 delivered, 1 opened and clicked,
    1 bounced; 1 queued). Outside it: 1 conversation, 2 messages, 1 lead, 1 delivery, 1 opened mail.
    """
    now = timezone.now()
    two_days_ago = now - timedelta(days=2)
    old = now - timedelta(days=40)
    for copy in range(copies):
        n = offset + copy
        lead_new = Lead.objects.create(email=f"new{n}@x.test", source="chat")
        Lead.objects.create(email=f"q{n}@x.test", source="chat", status="qualified")
        lead_won = Lead.objects.create(email=f"won{n}@x.test", source="facebook", status="won")
        lead_lost = Lead.objects.create(email=f"lost{n}@x.test", source="api", status="lost")
        LeadStatusChange.objects.create(lead=lead_lost, from_status="new", to_status="qualified")
        LeadStatusChange.objects.create(lead=lead_lost, from_status="qualified", to_status="lost")
        _at(Lead, lead_won.pk, "created_at", two_days_ago)
        lead_old = Lead.objects.create(email=f"old{n}@x.test", source="import")
        _at(Lead, lead_old.pk, "created_at", old)

        today_conv = Conversation.objects.create(lead=lead_new)
        earlier_conv = Conversation.objects.create()
        facebook_conv = Conversation.objects.create(channel="facebook")
        _at(Conversation, earlier_conv.pk, "started_at", two_days_ago)
        old_conv = Conversation.objects.create()
        _at(Conversation, old_conv.pk, "started_at", old)
        for role in ("visitor", "assistant", "visitor", "assistant"):
            Message.objects.create(conversation=today_conv, role=role, text="hi")
        for role in ("visitor", "assistant", "agent"):
            message = Message.objects.create(conversation=earlier_conv, role=role, text="hello")
            _at(Message, message.pk, "created_at", two_days_ago)
        for role in ("visitor", "assistant"):
            message = Message.objects.create(conversation=old_conv, role=role, text="old")
            _at(Message, message.pk, "created_at", old)
        del facebook_conv

        for index, status in enumerate(("succeeded", "succeeded", "dead", "pending")):
            WebhookDelivery.objects.create(event_type="lead.created", webhook_id=f"msg_{n}_{index}", status=status)
        old_delivery = WebhookDelivery.objects.create(event_type="lead.created", webhook_id=f"old_{n}", status="dead")
        _at(WebhookDelivery, old_delivery.pk, "created_at", old)

        mail = {"lead": lead_new, "to": lead_new.email, "subject": "Welcome"}
        MessageLog.objects.create(
            **mail, status="clicked", sent_at=now, delivered_at=now, opened_at=now, clicked_at=now
        )
        MessageLog.objects.create(**mail, status="delivered", sent_at=now, delivered_at=now)
        MessageLog.objects.create(**mail, status="bounced", sent_at=now, bounced_at=now)
        MessageLog.objects.create(**mail, status="queued")
        old_mail = MessageLog.objects.create(**mail, status="opened", sent_at=old, delivered_at=old, opened_at=old)
        _at(MessageLog, old_mail.pk, "created_at", old)


def test_numbers_of_a_seeded_history(org):
    with tenant_context(org):
        seed()
        summary = analytics_summary(days=7)
    assert summary["days"] == 7
    assert summary["conversations"] == 3
    assert summary["conversations_with_lead"] == 1
    assert summary["messages"] == {"total": 7, "visitor": 3, "assistant": 3, "agent": 1}
    assert summary["leads"]["total"] == 4
    assert summary["leads"]["by_status"] == {
        "new": 1, "contacted": 0, "qualified": 1, "unqualified": 0, "won": 1, "lost": 1,
    }  # fmt: skip
    assert summary["leads"]["by_source"] == {
        "chat": 2, "facebook": 1, "instagram": 0, "api": 1, "import": 0, "form": 0,
    }  # fmt: skip
    assert summary["funnel"] == {"conversations": 3, "leads": 4, "qualified": 3, "won": 1}
    assert summary["conversion_rate"] == round(1 / 3, 4)
    assert summary["webhooks"] == {
        "total": 4, "succeeded": 2, "failed": 0, "dead": 1, "pending": 1, "success_rate": round(2 / 3, 4),
    }  # fmt: skip
    # AI replies this calendar month (billing's counter): today's 2, and the one of 2 days ago unless a
    # new month began since; the starter plan allows 1000.
    month_start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    expected_used = 2 + (timezone.now() - timedelta(days=2) >= month_start)
    assert summary["ai_replies"] == {"used": expected_used, "limit": 1000}
    assert summary["email"] == {"sent": 3, "delivered": 2, "opened": 1, "clicked": 1, "bounced": 1}

    series = summary["series"]
    assert len(series) == 7
    today = timezone.localdate()
    assert series[-1]["date"] == today.isoformat()
    assert series[0]["date"] == (today - timedelta(days=6)).isoformat()
    by_date = {row["date"]: row for row in series}
    assert by_date[today.isoformat()] == {
        "date": today.isoformat(), "conversations": 2, "messages": 4, "leads": 3, "ai_replies": 2,
    }  # fmt: skip
    two_days_ago = (today - timedelta(days=2)).isoformat()
    assert by_date[two_days_ago] == {
        "date": two_days_ago, "conversations": 1, "messages": 3, "leads": 1, "ai_replies": 1,
    }  # fmt: skip
    assert sum(row["conversations"] for row in series) == summary["conversations"]


def test_a_longer_window_takes_in_older_rows(org):
    with tenant_context(org):
        seed()
        summary = analytics_summary(days=60)
    assert summary["conversations"] == 4
    assert summary["messages"]["total"] == 9
    assert summary["leads"]["total"] == 5 and summary["leads"]["by_source"]["import"] == 1
    assert summary["webhooks"]["dead"] == 2 and summary["webhooks"]["success_rate"] == 0.5
    assert summary["email"] == {"sent": 4, "delivered": 3, "opened": 2, "clicked": 1, "bounced": 1}
    assert len(summary["series"]) == 60


def test_without_the_email_app_email_is_null(org, monkeypatch):
    from apps.analytics import selectors

    monkeypatch.setattr(selectors, "EMAIL_LOG_MODEL", ("no_such_app", "MessageLog"))
    with tenant_context(org):
        assert analytics_summary(days=7)["email"] is None


def test_an_empty_organization_has_zeros_and_no_rates(org):
    with tenant_context(org):
        summary = analytics_summary(days=1)
    assert summary["conversations"] == 0 and summary["leads"]["total"] == 0
    assert summary["conversion_rate"] is None and summary["webhooks"]["success_rate"] is None
    assert summary["email"] == {"sent": 0, "delivered": 0, "opened": 0, "clicked": 0, "bounced": 0}
    assert summary["series"] == [
        {"date": timezone.localdate().isoformat(), "conversations": 0, "messages": 0, "leads": 0, "ai_replies": 0}
    ]


def test_query_count_does_not_grow_with_data(org, django_assert_num_queries):
    with tenant_context(org):
        seed(1)
        analytics_summary(days=30)  # warm-up: billing's plan lookups and the like
        with django_assert_num_queries(8) as one:
            small = analytics_summary(days=30)
        seed(4, offset=1)
        with django_assert_num_queries(len(one.captured_queries)):
            large = analytics_summary(days=30)
    assert large["conversations"] == 5 * small["conversations"]
    assert large["leads"]["total"] == 5 * small["leads"]["total"]
    assert large["funnel"]["qualified"] == 5 * small["funnel"]["qualified"]
    assert large["email"]["sent"] == 5 * small["email"]["sent"]


def test_the_api_shares_the_selector(org, api_key, client_for, member_of):
    with tenant_context(org):
        seed()
        expected = analytics_summary(days=7)
    response = client_for(org, api_key=api_key).get("/api/v1/analytics/summary/?days=7")
    assert response.status_code == 200
    assert response.json() == expected
    default = client_for(org, user=member_of(org, "member")).get("/api/v1/analytics/summary/")
    assert default.status_code == 200 and default.json()["days"] == 30


@pytest.mark.parametrize("days", ["0", "366", "abc", "-3", ""])
def test_bad_days_are_a_400_naming_days(org, api_key, client_for, days):
    response = client_for(org, api_key=api_key).get(f"/api/v1/analytics/summary/?days={days}")
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == "days"


def test_anonymous_and_other_organizations_get_nothing(org, other_org, client_for, member_of):
    assert client_for(org).get("/api/v1/analytics/summary/").status_code == 401
    outsider = member_of(other_org, "owner", email="boss@globex.test")
    assert client_for(org, user=outsider).get("/api/v1/analytics/summary/").status_code == 403
