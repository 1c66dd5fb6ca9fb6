"""Helpers of the tests that run the outbox over a real broker (Redis, RabbitMQ) with real worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from apps.events.services import event_record
from apps.webhooks.models import WebhookDelivery
from apps.webhooks.services import webhook_endpoint_create


def endpoint_for(org, url):
    with tenant_context(org):
        return webhook_endpoint_create(organization=org, url=url, event_types=["*"])


def record(org, n=1):
    with tenant_context(org):
        return [event_record(type="lead.created", data={"lead": {"id": i, "org": org.slug}}) for i in range(n)]


def statuses(org) -> dict[str, str]:
    with tenant_context(org):
        return dict(WebhookDelivery.objects.values_list("webhook_id", "status"))


def wait_until(condition, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(message)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL a worker started in its own session: the dramatiq parent and its worker processes."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def worker_start(settings_module: str, env: dict[str, str], log, queues: list[str] | None = None) -> subprocess.Popen:
    """A `dramatiq` worker process (1 process, 2 threads) on this test database, in a session of its own.

    Its own session: SIGKILL goes to the whole group (the dramatiq parent and its worker process).
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "OUTBOX_TEST_DATABASE": connection.settings_dict["NAME"],
        "WEBHOOK_ALLOW_PRIVATE_HOSTS": "true",
        "WEBHOOK_RETRY_SCHEDULE": "0,0,0",
        **env,
    }
    command = [sys.executable, "-m", "dramatiq", "--processes", "1", "--threads", "2"]
    command += ["django_dramatiq.setup", "apps.webhooks.actors"]
    if queues:
        command += ["--queues", *queues]
    return subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
