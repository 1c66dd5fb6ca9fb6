"""Management commands of the contract: success, idempotence, and one-line failures with exit 1."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from apps.accounts.models import Membership, OrganizationAPIKey, User
from apps.billing.models import Plan, Subscription
from apps.core.extensions import TRIGRAM_OPERATOR_COST, trigram_costs
from apps.tenants.models import Domain, Organization

ROOT = Path(__file__).resolve().parent.parent


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_init_platform_is_idempotent(db, settings):
    settings.DJANGO_SUPERUSER_EMAIL = "root@platform.test"
    settings.DJANGO_SUPERUSER_PASSWORD = "s3cret-pass"
    run("init_platform")
    run("init_platform")
    assert Organization.objects.filter(schema_name="public").count() == 1
    assert Domain.objects.filter(domain=settings.BASE_DOMAIN).count() == 1
    assert sorted(Plan.objects.values_list("code", flat=True)) == ["agency", "pro", "starter"]
    assert User.objects.get(email="root@platform.test").is_superuser


def test_init_platform_refuses_superuser_without_password(db, settings):
    settings.DJANGO_SUPERUSER_EMAIL = "root@platform.test"
    settings.DJANGO_SUPERUSER_PASSWORD = ""
    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        run("init_platform")


def test_create_organization(db):
    out = run("create_organization", "acme-realty", "--name", "Acme Realty", "--owner-email", "Boss@Acme.test")
    assert "acme-realty.localhost" in out
    organization = Organization.objects.get(slug="acme-realty")
    assert organization.schema_name == "acme_realty"
    assert Domain.objects.get(tenant=organization).domain == "acme-realty.localhost"
    membership = Membership.objects.get(organization=organization)
    assert (membership.user.email, membership.role) == ("boss@acme.test", "owner")
    subscription = Subscription.objects.get(organization=organization)
    assert (subscription.plan.code, subscription.status) == ("starter", "trialing")


def test_create_organization_with_plan_and_existing_user(db):
    User.objects.create_user(email="boss@acme.test", password="x")
    run("create_organization", "acme", "--name", "Acme", "--owner-email", "boss@acme.test", "--plan", "pro")
    assert Subscription.objects.get(organization__slug="acme").plan.code == "pro"
    assert User.objects.filter(email="boss@acme.test").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Slug", "--name", "X", "--owner-email", "a@b.test"], "Invalid slug"),
        (["acme-", "--name", "X", "--owner-email", "a@b.test"], "Invalid slug"),
        (["admin", "--name", "X", "--owner-email", "a@b.test"], "reserved"),
        (["acme", "--name", "X", "--owner-email", "not-an-email"], "not a valid email"),
        (["acme", "--name", "X", "--owner-email", "a@b.test", "--plan", "gold"], "Unknown plan"),
        (["acme", "--name", "  ", "--owner-email", "a@b.test"], "needs a name"),
    ],
)
def test_create_organization_rejects_bad_input(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_organization", *args)
    assert not Organization.objects.exclude(schema_name="public").exists()
    assert not User.objects.exists()


def test_create_organization_rejects_taken_slug(org):
    with pytest.raises(CommandError, match="already taken"):
        run("create_organization", "acme", "--name", "Again", "--owner-email", "x@y.test")
    assert Organization.objects.filter(slug="acme").count() == 1


def test_create_api_key_prints_a_working_key_last(org):
    out = run("create_api_key", "acme", "--name", "ci")
    key = out.strip().splitlines()[-1]
    assert OrganizationAPIKey.objects.get(organization=org).name == "ci"
    assert key not in OrganizationAPIKey.objects.get(organization=org).hashed_key
    client = APIClient(HTTP_HOST=org.host, HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.get("/api/v1/organization/").status_code == 200


def test_create_api_key_unknown_organization(db):
    with pytest.raises(CommandError, match="No organization with slug 'ghost'"):
        run("create_api_key", "ghost", "--name", "ci")


def test_seed_demo_is_idempotent(db):
    run("seed_demo")
    run("seed_demo")
    demo = Organization.objects.get(slug="demo")
    assert demo.persona_name and demo.greeting and demo.primary_color == "#0f766e"
    assert Membership.objects.filter(organization=demo, role="owner").count() == 1


def _test_database_url() -> str:
    from urllib.parse import quote

    from django.db import connection

    params = connection.get_connection_params()
    query = f"host={quote(params.get('host') or 'localhost')}"
    if params.get("port"):
        query += f"&port={params['port']}"
    credentials = f"{quote(params.get('user') or '')}:{quote(params.get('password') or '')}"
    return f"postgresql://{credentials}@/{params['dbname']}?{query}"


def test_command_failure_is_one_line_and_exit_1(db):
    """Through manage.py itself, as an operator runs it: exit 1 and a single line on stderr."""
    # The child process must use this run's test database, not the development one.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": _test_database_url()}
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_api_key", "ghost-org", "--name", "ci"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and "Warning" not in line and "warnings.warn" not in line
    ]
    assert lines == ["CommandError: No organization with slug 'ghost-org'."]


@pytest.mark.parametrize(
    "command",
    [
        ["create_organization", "x1", "--name", "X", "--owner-email", "a@b.test"],
        ["run_automations", "--task", "webhooks"],
    ],
)
def test_a_database_that_cannot_be_reached_is_one_line_and_exit_1(command):
    # Each command printed a ~90-line traceback while the database was down.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.local", "DATABASE_URL": "postgres://127.0.0.1:1/x"}
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and "arning" not in line]
    assert len(lines) == 1 and lines[0].startswith("CommandError: The database is unreachable: "), lines


def test_init_platform_declares_the_trigram_costs_a_restore_or_an_extension_update_loses(db):
    # pg_dump leaves an extension's members out, and ALTER EXTENSION … UPDATE re-creates them: either
    # way pg_trgm's own cost (1) is back, and the search's planner scans the vocabulary again.
    with connection.cursor() as cursor:
        for operator in ("%", "<%", "%>"):
            cursor.execute(f"ALTER FUNCTION {function_of(cursor, operator)} COST 1")
    assert set(trigram_costs(connection).values()) == {1}
    run("init_platform")
    assert trigram_costs(connection) == {"%": TRIGRAM_OPERATOR_COST, "<%": TRIGRAM_OPERATOR_COST,
                                         "%>": TRIGRAM_OPERATOR_COST}  # fmt: skip


def function_of(cursor, operator: str) -> str:
    cursor.execute(
        "SELECT oprcode::regprocedure::text FROM pg_operator "
        "WHERE oprname = %s AND oprleft = 'text'::regtype AND oprright = 'text'::regtype",
        [operator],
    )
    return cursor.fetchone()[0]
