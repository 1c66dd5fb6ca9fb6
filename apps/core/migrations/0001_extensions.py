"""Create pgvector and pg_trgm in the shared `extensions` schema that every tenant's search_path reaches."""

from django.db import migrations

# IF NOT EXISTS on both: a server where an operator already installed the extension (in any
# schema) keeps it there; PG_EXTRA_SEARCH_PATHS makes `extensions` visible either way.
SQL = """
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA extensions;
"""


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [migrations.RunSQL(SQL, reverse_sql=migrations.RunSQL.noop)]
