"""Tell the planner what pg_trgm's similarity operators cost, so that it uses the trigram index.

Why, and why init_platform declares it again: apps/core/extensions.py. The SQL is imported from there
rather than copied: it is idempotent and only ever sets the same declaration.
"""

from django.db import migrations

from apps.core.extensions import TRIGRAM_COSTS_SQL


class Migration(migrations.Migration):
    dependencies = [("core", "0001_extensions")]
    operations = [migrations.RunSQL(TRIGRAM_COSTS_SQL, reverse_sql=migrations.RunSQL.noop)]
