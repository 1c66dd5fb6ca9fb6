"""The welcome sequence: day 0 at once, days 3/7/14 when due, never twice, and leads leaving it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from apps.campaigns.models import (
    Campaign,
    CampaignStep,
    Enrollment,
    EnrollmentStatus,
    MessageLog,
    MessageStatus,
    StopReason,
    Suppression,
)
from apps.campaigns.services import (
    email_sequences_run,
    enrollment_step_send,
    suppression_add,
    welcome_sequence_ensure,
)
from apps.campaigns.tests.conftest import add_listings, new_lead
from apps.campaigns.tests.helpers import run_messages, take_queued
from apps.core.jobs import SCHEMA_OPTION
from apps.leads.services import lead_capture, lead_update

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
WELCOME_SUBJECTS = [
    "Welcome to Acme Realty, Ana!",
    "A few homes you might like, Ana",
    "Ready to visit a home, Ana?",
    "Still looking, Ana?",
]


def test_first_lead_gets_the_welcome_sequence_in_the_persona_voice(in_org):
    lead = new_lead()
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.kind, campaign.trigger, campaign.status) == (
        "Welcome sequence", "sequence", "lead_created", "active",
    )  # fmt: skip
    assert list(campaign.steps.values_list("order", "delay_days")) == [(0, 0), (1, 3), (2, 7), (3, 14)]
    enrollment = Enrollment.objects.get()
    assert (enrollment.lead, enrollment.campaign, enrollment.status) == (lead, campaign, EnrollmentStatus.ACTIVE)
    # Once per organization, for good: a deleted welcome sequence does not come back.
    campaign.delete()
    assert welcome_sequence_ensure() is None
    new_lead(email="bo@example.com", name="Bo")
    assert not Campaign.objects.exists()


def test_the_wording_follows_the_persona_tone(org):
    from django_tenants.utils import tenant_context

    org.persona_tone = "formal and polite"
    org.persona_name = "Grace"
    org.save()
    with tenant_context(org):
        new_lead()
        assert email_sequences_run() == 1
    [message] = mail.outbox
    assert message.subject == "Thank you for contacting Acme Realty"
    assert message.body.startswith("Dear Ana Diaz,\n\nThank you for contacting Acme Realty. My name is Grace")


def test_a_new_lead_gets_day_0_at_once_through_its_job(in_org, django_capture_on_commit_callbacks):
    take_queued()
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead()
    [job] = take_queued()
    assert (job.actor_name, job.args, job.options[SCHEMA_OPTION]) == ("send_lead_autoresponder", (lead.pk,), "acme")
    run_messages([job])
    [message] = mail.outbox
    assert message.to == ["ana@example.com"] and message.subject == WELCOME_SUBJECTS[0]
    log = MessageLog.objects.get()
    assert (log.lead, log.to, log.status, log.subject) == (lead, "ana@example.com", MessageStatus.SENT, message.subject)
    assert log.sent_at is not None
    # The job again (a retry) sends nothing.
    run_messages([job])
    assert len(mail.outbox) == 1


def test_days_3_7_and_14_go_out_when_due_and_nothing_twice(in_org):
    add_listings()
    with time_machine.travel(T0, tick=False) as clock:
        lead = new_lead()
        assert email_sequences_run() == 1
        assert email_sequences_run() == 0  # a second run sends nothing twice
        for day, subject in ((3, WELCOME_SUBJECTS[1]), (7, WELCOME_SUBJECTS[2]), (14, WELCOME_SUBJECTS[3])):
            clock.move_to(T0 + timedelta(days=day) - timedelta(minutes=5))
            assert email_sequences_run() == 0, f"day {day} went out early"
            clock.move_to(T0 + timedelta(days=day, minutes=5))
            assert email_sequences_run() == 1
            assert email_sequences_run() == 0
            assert mail.outbox[-1].subject == subject
        clock.move_to(T0 + timedelta(days=60))
        assert email_sequences_run() == 0
    assert [message.subject for message in mail.outbox] == WELCOME_SUBJECTS
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.last_step_order, enrollment.next_send_at) == ("completed", 3, None)
    logs = MessageLog.objects.filter(lead=lead).order_by("created_at")
    assert [log.step.delay_days for log in logs] == [0, 3, 7, 14]
    assert [log.created_at for log in logs] == [T0 + timedelta(days=d, minutes=5 if d else 0) for d in (0, 3, 7, 14)]


def test_mail_has_text_and_branded_html_parts_and_matching_listings(in_org):
    in_org.primary_color = "#123abc"
    add_listings()
    new_lead(areas=["Austin"], property_type="house", budget_max=450_000, bedrooms=3)
    email_sequences_run()
    [message] = mail.outbox
    assert "Sunny house with garden: $420,000, Austin" in message.body
    assert "Mansion on the hill" not in message.body and "Family house in Dallas" not in message.body
    assert "a house with 3+ bedrooms in Austin, up to $450,000" in message.body
    assert "I'm Ava from Acme Realty" in message.body
    assert message.from_email == "Ava at Acme Realty <assistant@platform.test>"
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "background:#123abc" in html and "Acme Realty" in html  # the organization's brand color and name
    assert "Sunny house with garden" in html
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http://localhost:8000/unsubscribe/") and url in message.body and url in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_listings_fall_back_when_nothing_matches_every_criterion(in_org):
    add_listings()
    new_lead(areas=["Nowhere"], property_type="house", budget_max=500_000)
    email_sequences_run()
    body = mail.outbox[0].body
    assert "Sunny house with garden" in body or "Family house in Dallas" in body
    assert "Mansion on the hill" not in body  # the budget is the last thing to go


def test_a_retried_send_whose_log_exists_never_mails_again(in_org):
    lead = new_lead()
    enrollment = Enrollment.objects.get()
    step = CampaignStep.objects.get(order=0)
    # The log of an earlier try that was committed just before the process died.
    MessageLog.objects.create(lead=lead, campaign=enrollment.campaign, step=step, to=lead.email, subject="x")
    assert enrollment_step_send(enrollment_id=enrollment.pk) is None
    assert mail.outbox == []
    enrollment.refresh_from_db()
    assert enrollment.last_step_order == 0 and enrollment.status == "active"  # moved on to day 3
    assert MessageLog.objects.count() == 1


def test_two_runs_of_the_same_enrollment_send_once(in_org):
    new_lead()
    enrollment = Enrollment.objects.get()
    assert enrollment_step_send(enrollment_id=enrollment.pk) is not None
    assert enrollment_step_send(enrollment_id=enrollment.pk) is None
    assert len(mail.outbox) == 1


def test_a_suppressed_address_gets_nothing(in_org):
    suppression_add(email="Ana@Example.com", reason="bounced")
    new_lead()
    assert email_sequences_run() == 0
    assert mail.outbox == [] and not MessageLog.objects.exists()
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", StopReason.SUPPRESSED)


def test_suppressing_an_address_stops_its_enrollments(in_org):
    with time_machine.travel(T0, tick=False) as clock:
        new_lead()
        assert email_sequences_run() == 1
        suppression_add(email="ana@example.com", reason="unsubscribed")
        clock.move_to(T0 + timedelta(days=20))
        assert email_sequences_run() == 0
    assert len(mail.outbox) == 1
    assert Enrollment.objects.get().stop_reason == StopReason.UNSUBSCRIBED


@pytest.mark.parametrize("status", ["won", "lost", "unqualified"])
def test_a_lead_marked_won_lost_or_unqualified_leaves_its_sequences(in_org, status):
    with time_machine.travel(T0, tick=False) as clock:
        lead = new_lead()
        email_sequences_run()
        lead_update(lead=lead, status=status)
        clock.move_to(T0 + timedelta(days=4))
        assert email_sequences_run() == 0
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", StopReason.STATUS)


def test_qualified_keeps_the_lead_in_its_sequences(in_org):
    lead = new_lead()
    lead_update(lead=lead, status="qualified")
    assert Enrollment.objects.get().status == "active"


def _chat(conversation_id: int, text: str):
    from apps.chat.services import TurnPrep, chat_turn_record

    return chat_turn_record(prep=TurnPrep(conversation_id=conversation_id, text=text))


def test_a_lead_who_answers_in_chat_leaves_its_sequences(in_org):
    from apps.chat.models import Conversation

    with time_machine.travel(T0, tick=False) as clock:
        conversation = Conversation.objects.create()
        _chat(conversation.pk, "Hi, I'm Ana, my email is ana@example.com")
        assert Enrollment.objects.get().lead.conversation_id == conversation.pk
        assert email_sequences_run() == 1
        # Still the visit that gave the address: that is no answer to the mail.
        clock.move_to(T0 + timedelta(minutes=2))
        _chat(conversation.pk, "Do you have houses with a pool?")
        assert Enrollment.objects.get().status == "active"
        # Back two days later, after the mail.
        clock.move_to(T0 + timedelta(days=2))
        _chat(conversation.pk, "I saw your email, is the loft still available?")
        clock.move_to(T0 + timedelta(days=4))
        assert email_sequences_run() == 0
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.stop_reason) == ("stopped", StopReason.REPLIED)


def test_a_chat_before_any_mail_is_no_answer(in_org):
    from apps.chat.models import Conversation

    with time_machine.travel(T0, tick=False) as clock:
        conversation = Conversation.objects.create()
        _chat(conversation.pk, "Hi, I'm Ana, my email is ana@example.com")
        clock.move_to(T0 + timedelta(hours=3))
        _chat(conversation.pk, "Anything new?")
    assert Enrollment.objects.get().status == "active"


def test_a_lead_without_an_address_waits_and_gets_day_0_once_it_gives_one(in_org, django_capture_on_commit_callbacks):
    lead, _ = lead_capture(name="Bo", phone="+15125550100", source="api")
    assert Enrollment.objects.filter(lead=lead).exists()
    assert email_sequences_run() == 0 and mail.outbox == []
    take_queued()
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(lead=lead, email="bo@example.com")
    run_messages(take_queued())
    assert [message.to for message in mail.outbox] == [["bo@example.com"]]


def test_paused_and_draft_campaigns_send_nothing(in_org):
    new_lead()
    Campaign.objects.update(status="paused")
    assert email_sequences_run() == 0
    Campaign.objects.update(status="active")
    assert email_sequences_run() == 1


def test_a_broken_template_is_logged_as_failed_not_sent(in_org):
    new_lead()
    CampaignStep.objects.filter(order=0).update(body="{% include 'secrets.txt' %}")
    assert email_sequences_run() == 0
    log = MessageLog.objects.get()
    assert log.status == MessageStatus.FAILED and log.error.startswith("Template error")
    assert mail.outbox == []


def test_templates_see_plain_values_only(in_org):
    new_lead()
    CampaignStep.objects.filter(order=0).update(body="[{{ lead.save }}][{{ organization.delete }}][{{ lead.owner }}]")
    email_sequences_run()
    assert mail.outbox[0].body.startswith("[][][]")


def test_sequences_of_one_organization_never_touch_another(org, other_org):
    from django_tenants.utils import tenant_context

    with tenant_context(other_org):
        new_lead()
        suppression_add(email="ana@example.com", reason="unsubscribed")
    with tenant_context(org):
        new_lead()
        assert email_sequences_run() == 1  # globex's suppression is globex's
        assert connection.schema_name == "acme"
    with tenant_context(other_org):
        assert email_sequences_run() == 0
        assert Suppression.objects.count() == 1 and not MessageLog.objects.exists()
    assert [message.subject for message in mail.outbox] == ["Welcome to Acme Realty, Ana!"]


def test_a_follow_up_recommends_listings_the_lead_has_not_been_shown(in_org):
    # Five Austin houses within budget: the first mail shows three, the day-3 mail the other two first.
    houses = add_listings(
        [
            {
                "title": f"Austin house {n}",
                "property_type": "house",
                "price": 300_000 + n,
                "bedrooms": 3,
                "city": "Austin",
            }
            for n in range(5)
        ]
    )
    with time_machine.travel(T0, tick=False) as clock:
        lead = new_lead(areas=["Austin"], property_type="house", budget_max=450_000)
        assert email_sequences_run() == 1
        clock.move_to(T0 + timedelta(days=3, minutes=5))
        assert email_sequences_run() == 1
    first, second = MessageLog.objects.filter(lead=lead).order_by("created_at")
    assert len(first.listing_ids) == 3 and len(second.listing_ids) == 3
    assert set(first.listing_ids) | set(second.listing_ids) == {house.pk for house in houses}
    fresh = set(second.listing_ids) - set(first.listing_ids)
    assert len(fresh) == 2 and second.listing_ids[:2] == [pk for pk in second.listing_ids if pk in fresh]
    for pk in second.listing_ids:
        title = next(house.title for house in houses if house.pk == pk)
        assert title in mail.outbox[1].body
