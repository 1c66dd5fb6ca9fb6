"""`reindex_properties [<slug>]`: embed the listings whose text or embedding model changed, with a progress bar."""

from __future__ import annotations

from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context
from tqdm import tqdm

from apps.core.commands import PlatformCommand
from apps.properties.embeddings import EmbeddingError, get_embedder
from apps.properties.models import Property
from apps.properties.services import property_embeddings_sync
from apps.tenants.selectors import organization_get, organization_list


class Command(PlatformCommand):
    help = (
        "Re-embed listings of one organization (or all) whose text or EMBEDDING_PROVIDER/EMBEDDING_MODEL "
        "changed; run it after switching provider."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="one organization (default: every organization)")
        parser.add_argument("--force", action="store_true", help="re-embed every listing, changed or not")

    def handle(self, *args, **options):
        with schema_context(get_public_schema_name()):
            if options["slug"]:
                organization = organization_get(slug=options["slug"])
                if organization is None:
                    raise CommandError(f"No organization with slug '{options['slug']}'.")
                organizations = [organization]
            else:
                organizations = list(organization_list())
        try:
            model_name = get_embedder().model_name
        except EmbeddingError as exc:
            raise CommandError(str(exc)) from None
        total = 0
        for organization in organizations:
            with tenant_context(organization):
                ids = list(Property.objects.order_by("pk").values_list("pk", flat=True))
                with tqdm(
                    total=len(ids),
                    desc=organization.slug,
                    unit="listing",
                    file=self.stderr,
                    disable=options["verbosity"] == 0,
                ) as bar:
                    try:
                        embedded = property_embeddings_sync(
                            property_ids=ids, force=options["force"], progress=bar.update
                        )
                    except EmbeddingError as exc:
                        raise CommandError(f"{organization.slug}: {exc}") from None
            total += embedded
            self.stdout.write(f"{organization.slug}: {embedded} of {len(ids)} listings embedded with {model_name}.")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} embedded in {len(organizations)} organization(s)."))
