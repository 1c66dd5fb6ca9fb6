"""The base of the platform's management commands: a database that cannot be reached is one line, not a traceback."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError


class PlatformCommand(BaseCommand):
    """A BaseCommand whose database errors of reach (down, refused, wrong host) end as a CommandError.

    Django prints a CommandError as one line and exits 1; any other exception as a ~90-line traceback,
    which is what an operator got from every command while the database was down.
    """

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except (OperationalError, InterfaceError) as exc:
            first_line = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            raise CommandError(f"The database is unreachable: {first_line}") from exc
