"""GET /healthz on any host: 200 when the database and the channel layer work, 503 naming the failing part."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "acme.localhost", "nobody.localhost"])
def test_healthz_ok_on_any_host(org, host):
    response = APIClient(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}


def test_healthz_reports_a_broken_channel_layer(db, settings):
    # A Redis layer pointed at a closed port: the round trip fails, the database still works.
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1"]}}
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        response = APIClient().get("/healthz")
    finally:
        channel_layers.backends.clear()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["channel_layer"].startswith("error")


def test_healthz_reports_a_broken_database(db, monkeypatch):
    import psycopg

    from apps.core import views

    class BrokenConnection:
        def cursor(self):
            raise psycopg.OperationalError("connection refused")

    # Only the health check's handle on the database breaks; the test's own transaction stays usable.
    monkeypatch.setattr(views, "connection", BrokenConnection())
    response = APIClient().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("error") and response.json()["channel_layer"] == "ok"


def test_healthz_answers_within_seconds_when_redis_accepts_and_never_answers(db, settings, monkeypatch):
    # It waited out the layer's 30 s socket timeout; a load balancer gives up first and learns nothing.
    import socket
    import time

    from channels.layers import channel_layers

    from apps.core import views

    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(8)  # accepts (the kernel does), never answers
    monkeypatch.setattr(views, "HEALTHZ_CHECK_SECONDS", 0.5)
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"redis://127.0.0.1:{mute.getsockname()[1]}"]},
        }
    }
    channel_layers.backends.clear()
    started = time.monotonic()
    try:
        response = APIClient().get("/healthz")
    finally:
        channel_layers.backends.clear()
        mute.close()
    assert time.monotonic() - started < 3
    assert response.status_code == 503 and response.json()["channel_layer"] == "error: no answer within 0.5 s"


def test_database_connections_give_up_connecting(settings):
    # libpq waits forever by default for a server that accepts and never answers.
    assert settings.DATABASES["default"]["OPTIONS"]["connect_timeout"] == settings.DATABASE_CONNECT_TIMEOUT > 0
