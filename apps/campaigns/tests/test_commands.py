"""`run_automations --task email|all` runs due steps in every organization; seed_demo sets up the welcome sequence."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_tenants.utils import tenant_context

from apps.campaigns.models import Campaign, CampaignStep
from apps.campaigns.tests.conftest import new_lead
from apps.core.periodic import periodic_task_get

pytestmark = pytest.mark.django_db
T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_run_automations_email_sends_what_is_due_in_every_organization_once(org, other_org):
    with time_machine.travel(T0, tick=False) as clock:
        for organization in (org, other_org):
            with tenant_context(organization):
                new_lead()
        output = run("run_automations", "--task", "email")
        assert output.startswith("email: 2 due items run in ")
        assert run("run_automations", "--task", "email").startswith("email: 0 due items")
        clock.move_to(T0 + timedelta(days=3, minutes=1))
        assert run("run_automations", "--task", "email").startswith("email: 2 due items")
    assert sorted(message.subject for message in mail.outbox) == [
        "A few homes you might like, Ana",
        "A few homes you might like, Ana",
        "Welcome to Acme Realty, Ana!",
        "Welcome to Globex Homes, Ana!",
    ]


def test_run_automations_all_includes_email(org):
    with tenant_context(org):
        new_lead()
    lines = run("run_automations", "--task", "all").splitlines()
    assert any(line.startswith("webhooks: ") for line in lines)
    assert "email: 1 due items run in " in "\n".join(lines)
    assert not any("no email automation" in line for line in lines)


def test_the_email_task_gives_every_organization_its_welcome_sequence(org):
    run("run_automations", "--task", "email")
    with tenant_context(org):
        assert Campaign.objects.get().key == "welcome"


def test_the_scheduler_fans_the_email_task_out_every_interval(settings):
    settings.EMAIL_SEQUENCE_INTERVAL = 45
    task = periodic_task_get("email")
    assert task is not None and task.actor.actor_name == "process_email_sequences"
    assert task.interval() == 45


def test_seed_demo_gives_demo_its_welcome_sequence_once(db):
    from apps.tenants.selectors import organization_get

    first = run("seed_demo")
    assert "Welcome sequence: created." in first
    demo = organization_get(slug="demo")
    with tenant_context(demo):
        campaign = Campaign.objects.get()
        CampaignStep.objects.filter(campaign=campaign, order=1).update(subject="Edited by the admin")
    second = run("seed_demo")
    assert "Welcome sequence: already set up." in second
    with tenant_context(demo):
        assert Campaign.objects.count() == 1
        assert campaign.steps.count() == 4
        assert campaign.steps.get(order=1).subject == "Edited by the admin"
        # Demo's persona is "warm and professional": the formal wording.
        assert campaign.steps.get(order=0).subject == "Thank you for contacting {{ organization.name }}"
