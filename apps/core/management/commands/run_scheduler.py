"""The scheduler process (`make scheduler`): fans each periodic task out to one job per organization."""

from __future__ import annotations

import signal
import threading

from apps.core.commands import PlatformCommand
from apps.core.jobs import discover_actors
from apps.core.periodic import Scheduler, periodic_fan_out, periodic_tasks


class Command(PlatformCommand):
    help = "Enqueue every periodic task once per organization, every task's interval, until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Fan every task out once and exit.")

    def handle(self, *args, **options):
        discover_actors()
        tasks = periodic_tasks()
        if options["once"]:
            for task in tasks:
                self.stdout.write(f"{task.name}: {periodic_fan_out(task)} organizations")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        names = ", ".join(f"{task.name} every {task.interval():g} s" for task in tasks)
        self.stdout.write(f"Scheduler running: {names or 'no periodic tasks'}. Ctrl-C stops it.")
        Scheduler().run(stop)
        self.stdout.write("Scheduler stopped.")
