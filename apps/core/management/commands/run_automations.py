"""Run the periodic automations (due webhook deliveries, due email steps, blast batches) for every organization."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import CommandError
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from apps.core.commands import PlatformCommand
from apps.core.jobs import BROKER_UNREACHABLE, discover_actors
from apps.core.periodic import periodic_run_now, periodic_task_get, periodic_tasks

# The contract's tasks (registered by apps.webhooks.actors and apps.campaigns.actors); any other
# registered periodic task (apps.core.periodic) is accepted too, and `all` runs every one that exists.
TASKS = ("webhooks", "email")
MAX_INTERVAL_SECONDS = 86_400
RETRY_SECONDS = 5.0


class Command(PlatformCommand):
    help = "Run due webhook deliveries and/or due email steps for every organization, once or in a loop."

    def add_arguments(self, parser):
        # Not `choices=`: an unknown task must end with a one-line error and exit status 1.
        parser.add_argument("--task", required=True, help="webhooks, email (or another periodic task) or all")
        parser.add_argument("--loop", action="store_true", help="Keep running until stopped (Ctrl-C).")
        parser.add_argument("--interval", type=float, default=None, help="Seconds between rounds with --loop.")

    def handle(self, *args, **options):
        discover_actors()
        known = list(dict.fromkeys([*TASKS, *(task.name for task in periodic_tasks())]))
        name = options["task"]
        if name not in (*known, "all"):
            raise CommandError(f"Unknown task '{name}' (choose {', '.join(known)} or all).")
        names = known if name == "all" else [name]
        interval = options["interval"]
        if interval is not None and not 0 < interval <= MAX_INTERVAL_SECONDS:
            # nan fails both comparisons; inf overflowed Event.wait after the first round; 0 or less spun
            # on the database without sleeping.
            raise CommandError(f"--interval is a number of seconds above 0 and at most {MAX_INTERVAL_SECONDS}.")
        if not options["loop"]:
            self._round(names)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set():
            try:
                interval = self._round(names)
            except (OperationalError, InterfaceError, *BROKER_UNREACHABLE) as exc:
                # The database restarted or the broker is down: this round is lost, not the loop (it
                # exited with a traceback). The next round opens a new connection.
                self.stderr.write(f"Round failed, retrying in {RETRY_SECONDS:g} s: {exc.__class__.__name__}: {exc}")
                close_old_connections()
                connection.close()
                interval = RETRY_SECONDS
            stop.wait(options["interval"] or interval)

    def _round(self, names) -> float:
        """Run each named task once; return the shortest interval among them (for --loop)."""
        intervals = []
        for name in names:
            task = periodic_task_get(name)
            if task is None:
                self.stdout.write(f"{name}: no {name} automation exists yet; nothing to run.")
                continue
            organizations, done = periodic_run_now(task)
            self.stdout.write(f"{name}: {done} due items run in {organizations} organizations")
            intervals.append(task.interval())
        return min(intervals, default=60.0)
