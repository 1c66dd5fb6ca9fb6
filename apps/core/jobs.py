"""Background jobs: the tenant middleware for Dramatiq, enqueue-after-commit, the in-process worker and scheduler.

Actors are declared with `dramatiq.actor` in each app's `actors.py`, always with explicit
`max_retries` and `time_limit`, and take ids (never model instances). The schema of the sender
travels in the message options; the worker activates exactly that schema for exactly that message.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq
from dramatiq.errors import BrokerConnectionError
from dramatiq.middleware import Middleware, SkipMessage

from apps.core.cache import UNREACHABLE

logger = logging.getLogger(__name__)

# A broker that is down: RabbitMQ's (dramatiq wraps pika's errors) or Redis's.
BROKER_UNREACHABLE = (BrokerConnectionError, *UNREACHABLE)

SCHEMA_OPTION = "schema_name"


class QueuePrefix(Middleware):
    """DRAMATIQ_QUEUE_PREFIX in front of every actor's queue, so deployments can share one broker."""

    def before_declare_actor(self, broker, actor):
        from django.conf import settings

        prefix = settings.DRAMATIQ_QUEUE_PREFIX
        if prefix and not actor.queue_name.startswith(prefix):
            actor.queue_name = prefix + actor.queue_name


class TenantMiddleware(Middleware):
    """Carry the sender's schema in each message and run the actor inside it.

    Each message sets its own schema before it runs; it is not reset afterwards. Consecutive messages
    of one organization (an outbox draining) send no `SET search_path` again: the backend
    (apps.tenants.postgresql_backend) skips a SET the session already has.
    """

    def before_enqueue(self, broker, message, delay):
        from django.db import connection

        # setdefault: a retry is re-enqueued from the worker, whose connection may be elsewhere.
        message.options.setdefault(SCHEMA_OPTION, connection.schema_name)

    def before_process_message(self, broker, message):
        from django.conf import settings
        from django.db import connection

        from apps.tenants.selectors import organization_for_schema

        schema = message.options.get(SCHEMA_OPTION) or settings.PUBLIC_SCHEMA_NAME
        if schema == settings.PUBLIC_SCHEMA_NAME:
            connection.set_schema_to_public()
            return
        tenant = organization_for_schema(schema)
        if tenant is None:
            # The organization was deleted after the job was queued: nothing left to act on.
            logger.warning("Skipping %s: schema %s no longer exists", message.actor_name, schema)
            connection.set_schema_to_public()
            raise SkipMessage()
        connection.set_tenant(tenant)


def enqueue(actor: dramatiq.Actor, *args: Any, schema: str, delay_ms: int | None = None, **kwargs: Any) -> None:
    """Send `actor(*args, **kwargs)` now, to run in `schema`."""
    actor.send_with_options(args=args, kwargs=kwargs, delay=delay_ms, **{SCHEMA_OPTION: schema})


def enqueue_on_commit(actor: dramatiq.Actor, *args: Any, delay_ms: int | None = None, **kwargs: Any) -> None:
    """Send `actor(*args, **kwargs)` once the current transaction commits, in the current schema.

    The schema is taken now (inside the change's tenant context), not when the callback runs.
    """
    from django.db import connection, transaction

    schema = connection.schema_name

    def send() -> None:
        try:
            enqueue(actor, *args, schema=schema, delay_ms=delay_ms, **kwargs)
        except BROKER_UNREACHABLE as exc:
            # The change is committed: its answer must not become a 500 (a client would retry it). What
            # the job would have done is repaired later: the outbox sweep re-queues pending deliveries,
            # `reindex_properties` embeds listings the job missed.
            logger.error("%s in %s not queued, the broker is unreachable: %s", actor.actor_name, schema, exc)

    transaction.on_commit(send, robust=False)


def discover_actors() -> None:
    """Import every app's actors module so the broker knows each actor (the worker needs them)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("actors")


_worker_lock = threading.Lock()
_worker: dramatiq.Worker | None = None


def in_process_worker_start(threads: int | None = None) -> dramatiq.Worker:
    """Drain the in-memory broker with worker threads inside this process (embedded default)."""
    global _worker
    from django.conf import settings

    with _worker_lock:
        if _worker is not None:
            return _worker
        discover_actors()
        broker = dramatiq.get_broker()
        # TimeLimit only arms itself on process_boot; the stub broker never emits it otherwise.
        broker.emit_after("process_boot")
        _worker = dramatiq.Worker(
            broker, worker_threads=threads or settings.JOBS_IN_PROCESS_THREADS, worker_timeout=100
        )
        _worker.start()
        logger.info("In-process job worker started (%d threads)", _worker.worker_threads)
        return _worker


_scheduler_stop: threading.Event | None = None
_scheduler_thread: threading.Thread | None = None


def in_process_scheduler_start() -> threading.Thread:
    """Run the periodic work (apps.core.periodic) in a thread of this process (embedded default).

    Next to the in-process worker: the jobs it fans out go to the same in-memory broker.
    """
    global _scheduler_stop, _scheduler_thread
    from apps.core.periodic import Scheduler

    with _worker_lock:
        if _scheduler_thread is not None and _scheduler_thread.is_alive():
            return _scheduler_thread
        discover_actors()
        _scheduler_stop = threading.Event()
        _scheduler_thread = threading.Thread(
            target=Scheduler().run, args=(_scheduler_stop,), name="periodic-scheduler", daemon=True
        )
        _scheduler_thread.start()
        logger.info("In-process scheduler started")
        return _scheduler_thread


def in_process_scheduler_stop(timeout: float = 5.0) -> None:
    global _scheduler_stop, _scheduler_thread
    with _worker_lock:
        if _scheduler_stop is not None:
            _scheduler_stop.set()
        thread, _scheduler_thread, _scheduler_stop = _scheduler_thread, None, None
    if thread is not None:
        thread.join(timeout)
