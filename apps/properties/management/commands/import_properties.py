"""`import_properties <slug> <file>`: upsert an organization's listings from CSV or JSON, with a progress bar."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from tqdm import tqdm

from apps.core.commands import PlatformCommand
from apps.core.errors import ApplicationError
from apps.properties.services import property_embeddings_sync, property_import, property_rows_parse
from apps.tenants.selectors import organization_get


class Command(PlatformCommand):
    help = (
        "Import listings (CSV with a header row, or a JSON array) into <slug>; bad rows are reported, the rest import."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file", help="path to a .csv or .json file")

    def handle(self, *args, **options):
        slug, path = options["slug"], Path(options["file"])
        with schema_context(get_public_schema_name()):
            organization = organization_get(slug=slug)
        if organization is None:
            raise CommandError(f"No organization with slug '{slug}'.")
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from None
        show_bars = options["verbosity"] > 0
        with tenant_context(organization):
            try:
                rows = property_rows_parse(content=content, filename=path.name)
            except ApplicationError as exc:
                raise CommandError(f"{path}: {exc.detail}") from None
            with tqdm(total=len(rows), desc="Importing", unit="row", file=self.stderr, disable=not show_bars) as bar:
                result = property_import(rows=rows, progress=bar.update)
            if settings.JOBS_IN_PROCESS and result.property_ids:
                # The in-memory broker of this process has no worker: embed here instead of in jobs.
                with tqdm(
                    total=len(result.property_ids),
                    desc="Embedding",
                    unit="listing",
                    file=self.stderr,
                    disable=not show_bars,
                ) as bar:
                    property_embeddings_sync(property_ids=result.property_ids, progress=bar.update)
        for error in result.errors:
            field = f" {error['attr']}:" if error["attr"] else ""
            self.stderr.write(f"row {error['row']}:{field} {error['detail']}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{organization.slug}: {result.created} created, {result.updated} updated, "
                f"{len(result.errors)} error(s)."
            )
        )
