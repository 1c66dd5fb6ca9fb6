"""Dramatiq actors of the outbox: deliver one delivery, and the per-organization sweep (a periodic task)."""

from __future__ import annotations

import dramatiq

from apps.core.periodic import PeriodicTask, periodic_task_register
from apps.webhooks import services

QUEUE = "webhooks"


# Our own retry schedule lives in the delivery row; Dramatiq's retries only cover the job itself
# failing (database down, time limit), and the claim makes a repeated message harmless. The time
# limit leaves room for one request of WEBHOOK_TIMEOUT (10 s) plus the database work.
@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, max_backoff=30_000, time_limit=60_000)
def webhook_deliver(delivery_id: int) -> None:
    services.webhook_delivery_attempt(delivery_id=delivery_id)


# The first tries of new events: what is due in this organization's outbox, in batches (see
# services.webhook_deliveries_drain). A batch takes at most WEBHOOK_TIMEOUT per DRAIN_CONCURRENCY of its
# deliveries (30 s at 10 s, 20 and 8), and a drain hands over to a fresh message after DRAIN_SECONDS (20 s).
@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=1_000, max_backoff=30_000, time_limit=90_000)
def webhooks_drain() -> None:
    services.webhook_deliveries_drain()


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=120_000)
def webhooks_sweep() -> None:
    # No retries: the scheduler sends a fresh sweep every WEBHOOK_SWEEP_INTERVAL anyway.
    services.webhook_deliveries_requeue_due()


periodic_task_register(
    PeriodicTask(
        name="webhooks",
        actor=webhooks_sweep,
        run=services.webhook_deliveries_run_due,
        interval_setting="WEBHOOK_SWEEP_INTERVAL",
    )
)
