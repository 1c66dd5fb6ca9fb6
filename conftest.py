"""Fixtures every domain's tests share: the platform set up once per test database, and organizations."""

from __future__ import annotations

import itertools
import os

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

_slugs = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # The public tenant, plans and the migrated template schema are committed once per test
    # database; organizations created in tests copy the template inside the test's transaction,
    # so the schema disappears with the rollback.
    with django_db_blocker.unblock():
        call_command("init_platform", verbosity=0)
    yield
    # Worker and websocket threads may still hold a session on the test database; end them so that
    # pytest-django can drop it (it runs right after this teardown).
    with django_db_blocker.unblock():
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _public_schema_first():
    """Each test starts on the public schema and an empty cache, whatever the previous test left.

    Schema names repeat between tests (`acme`), so a cached per-schema value must not outlive its test.
    """
    from django.core.cache import cache
    from django.db import connection

    from apps.billing.selectors import ai_allowance_forget
    from apps.properties.selectors import property_catalog_forget
    from apps.tenants.selectors import organization_forget

    cache.clear()
    organization_forget()
    ai_allowance_forget()
    property_catalog_forget()
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


def make_organization(slug: str | None = None, **kwargs):
    from apps.tenants.services import organization_create

    slug = slug or f"org-{os.getpid()}-{next(_slugs)}"
    kwargs.setdefault("name", f"{slug.title()} Realty")
    kwargs.setdefault("owner_email", f"owner@{slug}.test")
    return organization_create(slug=slug, **kwargs)


@pytest.fixture
def org(db):
    """The organization under test (its schema exists only inside this test's transaction)."""
    return make_organization("acme", name="Acme Realty", owner_email="owner@acme.test")


@pytest.fixture
def other_org(db):
    """A second organization, for checking that nothing crosses over."""
    return make_organization("globex", name="Globex Homes", owner_email="owner@globex.test")


@pytest.fixture
def committed_org(transactional_db):
    """An organization whose rows are committed (websocket and worker tests); its schema is dropped after."""
    organization = make_organization()
    yield organization
    organization.delete(force_drop=True)


def member(organization, role: str, email: str | None = None):
    from apps.accounts.models import Membership
    from apps.accounts.services import user_get_or_create

    user, _ = user_get_or_create(email=email or f"{role}@{organization.slug}.test", password="pw-123456")
    Membership.objects.update_or_create(organization=organization, user=user, defaults={"role": role})
    return user


def tenant_client(organization, *, user=None, api_key: str | None = None) -> APIClient:
    """An API client speaking to the organization's host, as a member (session) or with a key."""
    client = APIClient(HTTP_HOST=organization.host)
    if user is not None:
        client.force_login(user)
    if api_key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def api_key(org):
    from apps.accounts.services import api_key_create

    _, key = api_key_create(organization=org, name="tests")
    return key


@pytest.fixture
def client_for():
    return tenant_client


@pytest.fixture
def member_of():
    return member


@pytest.fixture
def jobs_worker(transactional_db):
    """A real Dramatiq worker on the test broker. Use with committed data (`committed_org`).

    `jobs_worker.drain()` waits until every queue is empty and every message has been processed.
    """
    import dramatiq

    from apps.core.jobs import discover_actors

    discover_actors()
    broker = dramatiq.get_broker()
    broker.flush_all()
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=50)
    worker.start()

    class Jobs:
        def __init__(self):
            self.broker = broker
            self.worker = worker

        def drain(self, timeout_ms: int = 15000) -> None:
            for queue in list(broker.queues):
                broker.join(queue, timeout=timeout_ms, fail_fast=True)
            worker.join()

    yield Jobs()
    worker.stop()
    broker.flush_all()
