"""Dramatiq actors of email follow-up: a new lead's day 0, the periodic run per organization, blast batches."""

from __future__ import annotations

import dramatiq

from apps.campaigns import services
from apps.core.periodic import PeriodicTask, periodic_task_register

QUEUE = "email"


# Retries are safe: a step's MessageLog is committed before its send, so a retry sends nothing twice.
@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, max_backoff=30_000, time_limit=120_000)
def send_lead_autoresponder(lead_id: int) -> None:
    services.lead_autoresponder_send(lead_id=lead_id)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=600_000)
def process_email_sequences() -> None:
    # No retries: the scheduler sends a fresh run every EMAIL_SEQUENCE_INTERVAL anyway.
    services.email_automations_run(continue_blasts=True)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, max_backoff=30_000, time_limit=600_000)
def campaign_blast_send(campaign_id: int) -> None:
    batch = services.campaign_blast_batch(campaign_id=campaign_id)
    services.blast_continue(campaign_id=campaign_id, batch=batch)


periodic_task_register(
    PeriodicTask(
        name="email",
        actor=process_email_sequences,
        run=services.email_automations_run,
        interval_setting="EMAIL_SEQUENCE_INTERVAL",
    )
)
