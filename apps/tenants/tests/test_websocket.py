"""Websocket tenant resolution: unknown organization 4404, foreign origin 4403, else the route runs in its schema."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.urls import re_path
from django_tenants.utils import schema_context

from apps.tenants.models import Organization
from apps.tenants.websocket import TenantWebsocketMiddleware


class EchoSchemaConsumer(AsyncJsonWebsocketConsumer):
    """Answers with the schema its scope names and what a query inside that schema sees."""

    async def connect(self):
        await self.accept()
        await self.send_json({"schema": self.scope["schema_name"], "seen": await self._probe()})

    @database_sync_to_async
    def _probe(self) -> str:
        with schema_context(self.scope["schema_name"]), connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            return cursor.fetchone()[0]


application = TenantWebsocketMiddleware(
    URLRouter(
        [
            re_path(r"^ws/probe/(?P<org_slug>[a-z0-9-]+)/$", EchoSchemaConsumer.as_asgi()),
            re_path(r"^ws/dashboard/$", EchoSchemaConsumer.as_asgi()),
        ]
    )
)


async def _close_code(path: str, headers=None) -> int:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect()
    assert connected  # accepted first, so the client gets the close code
    output = await communicator.receive_output(timeout=3)
    await communicator.wait()
    assert output["type"] == "websocket.close"
    return output["code"]


@pytest.fixture
def two_orgs(transactional_db):
    from conftest import make_organization

    first = make_organization("wsfirst")
    second = make_organization("wssecond")
    second.allowed_origins = ["https://www.second.test"]
    second.save()
    yield first, second
    for organization in Organization.objects.filter(slug__in=["wsfirst", "wssecond"]):
        organization.delete(force_drop=True)


@pytest.mark.django_db(transaction=True)
async def test_unknown_organization_closes_4404(two_orgs):
    assert await _close_code("/ws/probe/ghost/") == 4404
    assert await _close_code("/ws/dashboard/", headers=[(b"host", b"ghost.localhost")]) == 4404


@pytest.mark.django_db(transaction=True)
async def test_origin_outside_allowed_origins_closes_4403(two_orgs):
    headers = [(b"origin", b"https://evil.test")]
    assert await _close_code("/ws/probe/wssecond/", headers=headers) == 4403


@pytest.mark.django_db(transaction=True)
async def test_same_origin_pages_pass_the_allow_list(two_orgs):
    """The platform's own chat page is served from the socket's host: never refused by the allow-list."""
    headers = [(b"origin", b"http://localhost:8000"), (b"host", b"localhost:8000")]
    communicator = WebsocketCommunicator(application, "/ws/probe/wssecond/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["schema"] == "wssecond"
    await communicator.disconnect()
    spoofed = [(b"origin", b"http://localhost:8000.evil.test"), (b"host", b"localhost:8000")]
    assert await _close_code("/ws/probe/wssecond/", headers=spoofed) == 4403


@pytest.mark.django_db(transaction=True)
async def test_each_socket_runs_in_its_own_schema(two_orgs):
    results = {}
    for slug, origin in (("wsfirst", b"https://anything.test"), ("wssecond", b"https://www.second.test")):
        communicator = WebsocketCommunicator(application, f"/ws/probe/{slug}/", headers=[(b"origin", origin)])
        connected, _ = await communicator.connect()
        assert connected
        results[slug] = await communicator.receive_json_from(timeout=3)
        await communicator.disconnect()
    assert results == {
        "wsfirst": {"schema": "wsfirst", "seen": "wsfirst"},
        "wssecond": {"schema": "wssecond", "seen": "wssecond"},
    }


@pytest.mark.django_db(transaction=True)
async def test_tenant_host_resolves_without_slug_in_path(two_orgs):
    communicator = WebsocketCommunicator(application, "/ws/dashboard/", headers=[(b"host", b"wsfirst.localhost:8000")])
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=3))["schema"] == "wsfirst"
    await communicator.disconnect()
