"""Helpers of the email tests: the jobs a change queued, run the way the worker runs them."""

from __future__ import annotations

import queue

import dramatiq
from django_tenants.utils import schema_context

from apps.core.jobs import SCHEMA_OPTION


def take_queued(queue_name: str = "email") -> list[dramatiq.Message]:
    """Remove and return the messages waiting in a queue of the in-memory test broker."""
    broker = dramatiq.get_broker()
    taken = []
    for name in (queue_name, f"{queue_name}.DQ"):
        pending = broker.queues.get(name)
        while pending is not None:
            try:
                data = pending.get_nowait()
            except queue.Empty:
                break
            pending.task_done()
            taken.append(dramatiq.Message.decode(data))
    return taken


def run_messages(messages: list[dramatiq.Message]) -> None:
    """Run each message's actor in the schema the message carries, as apps.core.jobs.TenantMiddleware does."""
    broker = dramatiq.get_broker()
    for message in messages:
        with schema_context(message.options[SCHEMA_OPTION]):
            broker.get_actor(message.actor_name).fn(*message.args, **message.kwargs)
