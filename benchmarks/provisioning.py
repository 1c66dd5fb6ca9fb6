"""Benchmark: organization-ready time with the template copy vs. building the schema with migrate.

Runs both ways in the same process against the same database and prints seconds and the ratio.
Usage: `make bench` or `.venv/bin/python benchmarks/provisioning.py [--runs 5]`.
"""

from __future__ import annotations

import argparse
import time
import uuid

from _setup import django_setup, median, percentile

django_setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from apps.tenants import provisioning  # noqa: E402
from apps.tenants.models import Organization  # noqa: E402
from apps.tenants.services import organization_create  # noqa: E402


def _drop(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def time_schema(build, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        started = time.perf_counter()
        build(schema)
        timings.append(time.perf_counter() - started)
        _drop(schema)
    return timings


def time_organization(runs: int, *, by_migrate: bool) -> list[float]:
    """The whole organization_create (row, domain, schema, owner, trial), schema built either way."""
    original = provisioning.schema_provision
    if by_migrate:
        # Same service, but the schema is built by migrate — after the service's transaction, since
        # migrate cannot run inside one; the organization is ready only when both are done.
        provisioning.schema_provision = lambda schema_name: None
    timings = []
    try:
        for _ in range(runs):
            slug = f"bench-{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            organization = organization_create(slug=slug, name="Bench", owner_email=f"owner@{slug}.test")
            if by_migrate:
                provisioning.schema_migrate(organization.schema_name)
            timings.append(time.perf_counter() - started)
            Organization.objects.get(pk=organization.pk).delete(force_drop=True)
    finally:
        provisioning.schema_provision = original
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    call_command("init_platform", verbosity=0)
    provisioning.template_dump()  # warm: the dump is cached per process, as in a long-running server

    migrations = len(provisioning.expected_migrations())
    print(f"Provisioning benchmark: {args.runs} runs each, {migrations} migrations in the graph")
    copy_schema = time_schema(provisioning.schema_provision, args.runs)
    migrate_schema = time_schema(provisioning.schema_migrate, args.runs)
    copy_org = time_organization(args.runs, by_migrate=False)
    migrate_org = time_organization(args.runs, by_migrate=True)

    def row(label: str, values: list[float]) -> None:
        print(f"  {label:<34} p50 {median(values):7.3f} s   max {percentile(values, 100):7.3f} s")

    row("schema by template copy", copy_schema)
    row("schema by migrate (baseline)", migrate_schema)
    row("organization ready, template copy", copy_org)
    row("organization ready, migrate", migrate_org)
    print(f"  schema speed-up:       {median(migrate_schema) / median(copy_schema):5.1f}x")
    print(f"  organization speed-up: {median(migrate_org) / median(copy_org):5.1f}x")
    ok = percentile(copy_org, 100) <= 2.0
    print(f"  target: organization ready <= 2 s on every run: {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
