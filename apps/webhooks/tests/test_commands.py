"""run_automations, run_scheduler and the in-process scheduler thread."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import dramatiq
import pytest
from django.conf import settings
from django.core.management import call_command
from django_tenants.utils import tenant_context
from standardwebhooks import Webhook

from apps.core.jobs import SCHEMA_OPTION, in_process_scheduler_start, in_process_scheduler_stop
from apps.core.periodic import periodic_tasks
from apps.events.services import event_record
from apps.webhooks.models import DeliveryStatus, WebhookDelivery
from apps.webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.usefixtures("outbox_settings")


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_run_automations_webhooks_once_delivers_what_is_due(org, receiver):
    with tenant_context(org):
        _, secret = webhook_endpoint_create(organization=org, url=receiver.url, event_types=["*"])
        event_record(type="lead.created", data={"lead": {"id": 3}})

    output = run("run_automations", "--task", "webhooks")

    assert output.startswith("webhooks: 1 due items run in ")
    [request] = receiver.wait_for(1)
    assert Webhook(secret).verify(request.body, request.headers)["data"] == {"lead": {"id": 3}}
    with tenant_context(org):
        assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED
    # Once means once: a second round has nothing due.
    assert run("run_automations", "--task", "webhooks").startswith("webhooks: 0 due items")
    assert len(receiver.requests) == 1


def test_run_automations_email_and_all(org):
    assert run("run_automations", "--task", "email").startswith("email: 0 due items run in ")
    output = run("run_automations", "--task", "all").splitlines()
    assert output[0].startswith("webhooks: 0 due items") and output[1].startswith("email: 0 due items")
    assert len(output) == 2 + len({t.name for t in periodic_tasks()} - {"webhooks", "email"})


def test_run_automations_unknown_task_is_a_one_line_error_with_exit_1():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # django-tenants' own start-up warning (every command prints it; pytest filters it the same way).
        "PYTHONWARNINGS": "ignore:Accessing the database during app initialization:RuntimeWarning",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "run_automations", "--task", "laundry"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: Unknown task 'laundry' (choose webhooks, email") and line.endswith(
        " or all)."
    )


@pytest.mark.parametrize("interval", ["0", "-1", "nan", "inf", "100000"])
def test_run_automations_refuses_an_interval_it_cannot_sleep(db, interval):
    # inf overflowed the wait after the first round; 0, -1 and nan looped without sleeping.
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--interval"):
        call_command("run_automations", "--task", "webhooks", "--loop", "--interval", interval)


def queued_sweeps(broker) -> list[str]:
    queue = broker.queues.get("webhooks")
    messages = [dramatiq.Message.decode(raw) for raw in list(queue.queue)] if queue else []
    return [m.options[SCHEMA_OPTION] for m in messages if m.actor_name == "webhooks_sweep"]


def test_run_scheduler_fans_out_one_sweep_per_organization(org, other_org):
    broker = dramatiq.get_broker()
    broker.flush_all()
    try:
        output = run("run_scheduler", "--once")
        schemas = queued_sweeps(broker)
    finally:
        broker.flush_all()
    assert output.startswith("webhooks: ")
    assert schemas.count("acme") == 1 and schemas.count("globex") == 1
    assert "public" not in schemas


def test_the_in_process_scheduler_thread_sends_sweeps(committed_org):
    broker = dramatiq.get_broker()
    broker.flush_all()
    thread = in_process_scheduler_start()
    try:
        deadline = time.monotonic() + 5
        while not queued_sweeps(broker) and time.monotonic() < deadline:
            time.sleep(0.02)
        schemas = queued_sweeps(broker)
    finally:
        in_process_scheduler_stop()
        broker.flush_all()
    assert not thread.is_alive()
    assert committed_org.schema_name in schemas


def test_run_automations_loop_outlives_a_lost_database_connection(db, monkeypatch):
    # It exited with a traceback when its connection dropped (a database restart at 3 a.m.).
    from django.db import OperationalError

    from apps.core.management.commands import run_automations

    rounds = []

    def round_(self, names):
        rounds.append(1)
        if len(rounds) == 1:
            raise OperationalError("the connection is lost")
        raise KeyboardInterrupt  # the second round came: stop the loop here

    monkeypatch.setattr(run_automations.Command, "_round", round_)
    err = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        call_command("run_automations", "--task", "webhooks", "--loop", "--interval", "0.01", stderr=err)
    assert len(rounds) == 2 and "Round failed, retrying" in err.getvalue()
