"""Fast schema provisioning: copy a migrated template schema instead of migrating each new schema.

django-tenants' own clone_schema drops pgvector's dimensions (and renames constraints), and
`CREATE TABLE ... LIKE` renames every index; both break later migrations. Instead the template
schema is migrated normally, dumped once with `pg_dump --schema-only` (cached per process until
the set of migrations changes), and the dump is replayed with the schema name swapped. The
result is the same DDL that migrate would produce (checked in tests), in a fraction of the time.
"""

from __future__ import annotations

import functools
import re
import subprocess
import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import get_tenant_base_migrate_command_class, schema_exists

from config.embedded_db import bin_path

_lock = threading.Lock()
_cache: dict[str, TemplateDump] = {}


@dataclass(frozen=True)
class TemplateDump:
    statements: tuple[str, ...]
    migrations: tuple[tuple[str, str], ...]


def template_schema() -> str:
    return settings.TENANT_TEMPLATE_SCHEMA


@functools.cache
def expected_migrations() -> frozenset[tuple[str, str]]:
    """Every migration of the project's graph: what a fully migrated tenant schema has recorded."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return frozenset(loader.graph.nodes)


def _applied_migrations(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".django_migrations'])
        if cursor.fetchone()[0] is None:
            return set()
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')
        return set(cursor.fetchall())


def schema_migrate(schema_name: str, *, verbosity: int = 0) -> None:
    """Build `schema_name` the slow, reference way: create it and run every migration in it."""
    if connection.in_atomic_block:
        raise RuntimeError(
            f"Schema {schema_name} cannot be migrated inside a transaction; run `python manage.py init_platform` first."
        )
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
    # The migrate command expects every option its parser defines.
    parser = get_tenant_base_migrate_command_class()().create_parser("manage.py", "migrate")
    options = vars(parser.parse_args([]))
    options.update(verbosity=verbosity, interactive=False, database="default", skip_checks=True)
    run_migrations(args=[], options=options, executor_codename="standard", schema_name=schema_name)
    connection.set_schema_to_public()


def template_migrate(*, verbosity: int = 0) -> None:
    """Create and migrate the template schema (committed: pg_dump reads it from another session)."""
    schema_migrate(template_schema(), verbosity=verbosity)
    _cache.clear()


def _dump_sql(schema: str) -> str:
    db = connection.settings_dict
    params = connection.get_connection_params()
    cmd = [bin_path("pg_dump"), "--schema-only", "--no-owner", "--no-privileges", "--schema", schema]
    env = {"PGDATABASE": db["NAME"], "PGUSER": params.get("user") or db.get("USER") or ""}
    host = params.get("host") or db.get("HOST") or ""
    if host:
        env["PGHOST"] = host
    if params.get("port") or db.get("PORT"):
        env["PGPORT"] = str(params.get("port") or db.get("PORT"))
    if params.get("password") or db.get("PASSWORD"):
        env["PGPASSWORD"] = params.get("password") or db.get("PASSWORD")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"pg_dump of the template schema failed: {result.stderr.strip()}")
    return result.stdout


def _statements(dump: str, schema: str) -> tuple[str, ...]:
    """Split pg_dump's output into DDL statements, dropping session settings and psql meta-commands."""
    lines = []
    for line in dump.splitlines():
        stripped = line.strip()
        # PG 18's pg_dump adds \restrict/\unrestrict; SET lines and set_config belong to the
        # dump's session (and some, like transaction_timeout, do not exist on older servers).
        if not stripped or stripped.startswith(("--", "\\")) or stripped.startswith("SET "):
            continue
        if stripped.startswith("SELECT pg_catalog.set_config"):
            continue
        lines.append(line)
    statements = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip()
            current = []
            if re.match(rf'^CREATE SCHEMA "?{re.escape(schema)}"?;$', statement):
                continue  # the new schema is created explicitly
            statements.append(statement)
    return tuple(statements)


def template_dump() -> TemplateDump:
    """The template's DDL, migrating the template first when migrations were added since."""
    schema = template_schema()
    expected = expected_migrations()
    with _lock:
        cached = _cache.get(schema)
        if cached is not None and set(cached.migrations) == expected:
            return cached
        applied = _applied_migrations(schema) if schema_exists(schema) else set()
        if applied != expected:
            template_migrate()
            applied = _applied_migrations(schema)
        dump = TemplateDump(statements=_statements(_dump_sql(schema), schema), migrations=tuple(sorted(applied)))
        _cache[schema] = dump
        return dump


_IDENT_TEMPLATE = r'(?<![\w"])("?){name}\1(?=\.)'


def _rename(statement: str, source: str, target: str) -> str:
    # Swap only qualified references (`tenant_template.` / `"tenant_template".`), never the
    # same word inside a string literal or a longer identifier.
    pattern = re.compile(_IDENT_TEMPLATE.format(name=re.escape(source)))
    return pattern.sub(f'"{target}"', statement)


@transaction.atomic
def schema_provision(schema_name: str) -> None:
    """Create `schema_name` as an exact copy of the migrated template (structure and migration records)."""
    dump = template_dump()
    source = template_schema()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema_name}"')
        for statement in dump.statements:
            cursor.execute(_rename(statement, source, schema_name))
        cursor.execute(
            f'INSERT INTO "{schema_name}".django_migrations (app, name, applied) '
            f'SELECT app, name, applied FROM "{source}".django_migrations ORDER BY id'
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f'(SELECT COALESCE(MAX(id), 1) FROM "{schema_name}".django_migrations))',
            [f'"{schema_name}".django_migrations'],
        )
