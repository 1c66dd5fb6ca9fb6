"""Dramatiq actors of the Meta channels: handle a webhook item, send a reply, backfill an account, the sweep."""

from __future__ import annotations

import dramatiq

from apps.core.periodic import PeriodicTask, periodic_task_register
from apps.social import services
from apps.socialrouting.models import Platform

QUEUE = "social"


# Retries cover a failure of the job itself (database, a transient Graph error while fetching a
# profile); the message id's claim makes a repeated run harmless. The time limit leaves room for a
# whole chat turn (OPENAI_TIMEOUT, 60 s by default) plus the Graph calls around it.
@dramatiq.actor(queue_name=QUEUE, max_retries=5, min_backoff=1_000, max_backoff=120_000, time_limit=180_000)
def social_event_process(event_id: int) -> None:
    services.inbound_event_process(event_id=event_id)


# A transient Graph error (rate limit, 5xx, timeout) raises: Dramatiq retries with backoff, and the
# reply resumes after its last delivered piece. Permanent errors end the reply without a retry.
@dramatiq.actor(queue_name=QUEUE, max_retries=8, min_backoff=1_000, max_backoff=300_000, time_limit=60_000)
def social_outbound_send(outbound_id: int) -> None:
    services.outbound_send(outbound_id=outbound_id)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=5_000, max_backoff=120_000, time_limit=240_000)
def sync_facebook_messages(account_id: int) -> None:
    services.social_account_sync(account_id=account_id, platform=Platform.FACEBOOK)


@dramatiq.actor(queue_name=QUEUE, max_retries=3, min_backoff=5_000, max_backoff=120_000, time_limit=240_000)
def sync_instagram_messages(account_id: int) -> None:
    services.social_account_sync(account_id=account_id, platform=Platform.INSTAGRAM)


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=120_000)
def social_sweep() -> None:
    # No retries: the scheduler sends a fresh sweep every FACEBOOK_SWEEP_INTERVAL anyway.
    services.social_requeue_due()


periodic_task_register(
    PeriodicTask(
        name="social",
        actor=social_sweep,
        run=services.social_run_due,
        interval_setting="FACEBOOK_SWEEP_INTERVAL",
    )
)
