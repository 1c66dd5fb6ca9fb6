"""Periodic work: named per-organization tasks, the scheduler loop that fans them out, and run-now for the shell.

Each domain registers a task (from its `actors` module): an actor the scheduler enqueues once per
organization, in that organization's schema, every `interval_setting` seconds, and a function
doing the same work synchronously for `run_automations`. The loop is ours rather than periodiq's
or dramatiq-crontab's because the outbox sweep runs every few seconds (cron stops at minutes)
and because the same loop must also run as a thread of the web process on the in-memory broker.
Run one scheduler per deployment; a second one only re-queues work that is idempotent anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dramatiq

from apps.core.jobs import SCHEMA_OPTION

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicTask:
    name: str  # as `run_automations --task <name>` knows it
    actor: dramatiq.Actor  # enqueued once per organization, runs in that organization's schema
    run: Callable[[], int]  # the same work done here, in the current schema; returns how much it did
    interval_setting: str  # the setting holding the period in seconds

    def interval(self) -> float:
        from django.conf import settings

        return max(1.0, float(getattr(settings, self.interval_setting)))


_tasks: dict[str, PeriodicTask] = {}


def periodic_task_register(task: PeriodicTask) -> PeriodicTask:
    _tasks[task.name] = task
    return task


def periodic_tasks() -> list[PeriodicTask]:
    return list(_tasks.values())


def periodic_task_get(name: str) -> PeriodicTask | None:
    return _tasks.get(name)


def _schemas() -> list[str]:
    from apps.tenants.selectors import organization_list

    return list(organization_list().values_list("schema_name", flat=True))


def periodic_fan_out(task: PeriodicTask, *, schemas: Iterable[str] | None = None) -> int:
    """Enqueue the task's actor once per organization; returns the number of messages sent."""
    count = 0
    for schema in _schemas() if schemas is None else schemas:
        task.actor.send_with_options(args=(), kwargs={}, **{SCHEMA_OPTION: schema})
        count += 1
    return count


def periodic_run_now(task: PeriodicTask) -> tuple[int, int]:
    """Do the task's work here for every organization; returns (organizations, units of work)."""
    from django_tenants.utils import schema_context

    done = 0
    schemas = _schemas()
    for schema in schemas:
        with schema_context(schema):
            done += task.run()
    return len(schemas), done


class Scheduler:
    """Fan each registered task out when its interval has passed (monotonic clock, first run at start)."""

    def __init__(self, tasks: Iterable[PeriodicTask] | None = None):
        self._tasks = list(tasks) if tasks is not None else None
        self._next_run: dict[str, float] = {}

    def tasks(self) -> list[PeriodicTask]:
        return self._tasks if self._tasks is not None else periodic_tasks()

    def tick(self) -> float:
        """Run what is due; return the seconds until the next task is due."""
        from django.db import close_old_connections

        now = time.monotonic()
        for task in self.tasks():
            if self._next_run.get(task.name, now) > now:
                continue
            try:
                sent = periodic_fan_out(task)
                logger.debug("periodic %s: %d organizations", task.name, sent)
            except Exception:
                # A database or broker hiccup must not end the scheduler; the next tick tries again.
                logger.exception("periodic task %s failed to fan out", task.name)
            self._next_run[task.name] = now + task.interval()
        close_old_connections()
        upcoming = [self._next_run[t.name] for t in self.tasks() if t.name in self._next_run]
        return max(0.1, min(upcoming) - time.monotonic()) if upcoming else 1.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            stop.wait(self.tick())
