"""Blasts: rate-limited batches with progress, a lost chain picked up by the periodic run, and a real worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django_tenants.utils import tenant_context

from apps.campaigns.models import Campaign, Enrollment, MessageLog
from apps.campaigns.selectors import campaign_progress
from apps.campaigns.services import (
    blast_batch_interval,
    campaign_blast_batch,
    campaign_create,
    campaign_send,
    campaign_step_create,
    email_automations_run,
)
from apps.campaigns.tests.conftest import new_lead

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def make_blast(organization, leads: int) -> Campaign:
    for index in range(leads):
        new_lead(email=f"lead{index}@example.com", name=f"Lead {index}")
    campaign = campaign_create(organization=organization, name="Open house", kind="blast")
    campaign_step_create(campaign=campaign, subject="Open house Saturday", body="Hi {{ lead.first_name }}!")
    return campaign


def blast_mails() -> list:
    return [message for message in mail.outbox if message.subject == "Open house Saturday"]


@pytest.mark.django_db
def test_a_blast_goes_out_in_batches_at_the_rate_limit(in_org, settings):
    settings.EMAIL_BLAST_BATCH_SIZE = 2
    settings.EMAIL_BLAST_RATE_PER_MINUTE = 4  # two mails every 30 seconds
    assert blast_batch_interval() == 30.0
    with time_machine.travel(T0, tick=False) as clock:
        campaign = make_blast(in_org, leads=5)
        assert campaign_send(campaign=campaign) == 5

        first = campaign_blast_batch(campaign_id=campaign.pk)
        assert (first.sent, first.more, first.wait_seconds) == (2, True, 30.0)
        # Too early: the rate limit holds the next batch back.
        clock.move_to(T0 + timedelta(seconds=29))
        assert campaign_blast_batch(campaign_id=campaign.pk).sent == 0
        progress = campaign_progress(campaign=Campaign.objects.get(pk=campaign.pk))
        assert (progress["enrolled"], progress["pending"], progress["completed"], progress["sent"]) == (5, 3, 2, 2)
        assert progress["next_batch_at"] == T0 + timedelta(seconds=30)

        clock.move_to(T0 + timedelta(seconds=30))
        assert campaign_blast_batch(campaign_id=campaign.pk).sent == 2
        clock.move_to(T0 + timedelta(seconds=60))
        last = campaign_blast_batch(campaign_id=campaign.pk)
        assert (last.sent, last.more) == (1, False)
        clock.move_to(T0 + timedelta(seconds=90))
        assert campaign_blast_batch(campaign_id=campaign.pk).sent == 0
    assert sorted(message.to[0] for message in blast_mails()) == [f"lead{index}@example.com" for index in range(5)]
    assert MessageLog.objects.filter(campaign=campaign).count() == 5
    assert set(Enrollment.objects.filter(campaign=campaign).values_list("status", flat=True)) == {"completed"}


@pytest.mark.django_db
def test_a_lost_blast_is_picked_up_by_the_periodic_run(in_org, settings):
    settings.EMAIL_BLAST_BATCH_SIZE = 3
    with time_machine.travel(T0, tick=False) as clock:
        campaign = make_blast(in_org, leads=4)
        campaign_send(campaign=campaign)
        # No blast job ever ran (say the in-memory broker restarted): the periodic run sends a batch.
        email_automations_run()
        assert len(blast_mails()) == 3
        clock.move_to(T0 + timedelta(minutes=5))
        email_automations_run()
        assert len(blast_mails()) == 4


@pytest.mark.django_db
def test_a_paused_blast_stops_between_batches(in_org):
    campaign = make_blast(in_org, leads=3)
    campaign_send(campaign=campaign)
    assert campaign_blast_batch(campaign_id=campaign.pk).sent == 2
    Campaign.objects.filter(pk=campaign.pk).update(status="paused", next_batch_at=None)
    assert campaign_blast_batch(campaign_id=campaign.pk).sent == 0
    assert len(blast_mails()) == 2


def test_a_blast_sent_through_the_api_is_delivered_by_the_worker(committed_org, client_for, jobs_worker, settings):
    from apps.accounts.services import api_key_create

    settings.EMAIL_BLAST_BATCH_SIZE = 2
    settings.EMAIL_BLAST_RATE_PER_MINUTE = 6_000  # a batch every 20 ms
    _, key = api_key_create(organization=committed_org, name="blast")
    admin = client_for(committed_org, api_key=key)
    for index in range(5):
        assert admin.post("/api/v1/leads/", {"email": f"lead{index}@example.com"}).status_code == 201
    jobs_worker.drain()
    welcome_mails = len(mail.outbox)
    assert welcome_mails == 5  # each new lead got day 0 of the welcome sequence at once

    campaign = admin.post("/api/v1/campaigns/", {"name": "Open house", "kind": "blast"}).json()["id"]
    admin.post(f"/api/v1/campaigns/{campaign}/steps/", {"subject": "Open house Saturday", "body": "Come by!"})
    response = admin.post(f"/api/v1/campaigns/{campaign}/send/", {"filter": {"status": "new"}}, format="json")
    assert response.json() == {"queued": 5}
    jobs_worker.drain()
    assert len(blast_mails()) == 5 and len(mail.outbox) == welcome_mails + 5
    progress = admin.get(f"/api/v1/campaigns/{campaign}/progress/").json()
    assert (progress["enrolled"], progress["completed"], progress["sent"]) == (5, 5, 5)
    logs = admin.get("/api/v1/message-logs/", {"status": "sent", "page_size": 100}).json()
    assert logs["count"] == 10
    with tenant_context(committed_org):
        assert MessageLog.objects.filter(campaign_id=campaign).count() == 5
