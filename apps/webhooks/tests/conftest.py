"""Fixtures of the webhook tests: a real HTTP receiver on 127.0.0.1 and outbox settings fit for it."""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fakes.local_server import LocalServer


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


class Receiver(LocalServer):
    """A webhook receiver: records every request and answers from a script (then `default`)."""

    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self.answered: list[tuple[ReceivedRequest, int]] = []  # (request, status) once the answer went out
        self.script: collections.deque[tuple[int, dict[str, str]]] = collections.deque()
        self.default: tuple[int, dict[str, str]] = (200, {})
        self.hold = threading.Event()  # while set, requests are recorded but never answered
        self.release = threading.Event()  # ends the held requests (at teardown)
        self.received = threading.Condition()
        handler = type("Handler", (_Handler,), {"receiver": self})
        self._serve(handler)

    @property
    def base_url(self) -> str:
        return self.origin

    @property
    def url(self) -> str:
        return f"{self.base_url}/hook"

    def respond(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        for answer in answers:
            self.script.append(answer if isinstance(answer, tuple) else (answer, {}))

    def next_answer(self) -> tuple[int, dict[str, str]]:
        with self.received:
            return self.script.popleft() if self.script else self.default

    def record(self, request: ReceivedRequest) -> None:
        with self.received:
            self.requests.append(request)
            self.received.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0, path: str | None = None) -> list[ReceivedRequest]:
        def matching():
            return [r for r in self.requests if path is None or r.path == path]

        with self.received:
            self.received.wait_for(lambda: len(matching()) >= count, timeout=timeout)
            return matching()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do
    receiver: Receiver

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        request = ReceivedRequest(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.receiver.record(request)
        if self.receiver.hold.is_set():
            self.receiver.release.wait(30)
            return  # never answered: the connection just ends
        status, headers = self.receiver.next_answer()
        payload = b'{"ok": true}' if 200 <= status < 300 else b'{"error": "nope"}'
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        with self.receiver.received:
            self.receiver.answered.append((request, status))
            self.receiver.received.notify_all()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.release.set()  # ends held requests first, or shutdown would wait for them
    server.stop()


@pytest.fixture
def outbox_settings(settings):
    """Deliveries to 127.0.0.1 allowed, and retries without waiting."""
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.WEBHOOK_RETRY_SCHEDULE = [0, 0, 0]
    settings.N8N_WEBHOOK_URL = ""
    return settings


@pytest.fixture
def api_key_for():
    """An API key of any organization (the root `api_key` fixture is for `org` only)."""
    from apps.accounts.services import api_key_create

    def make(organization) -> str:
        _, key = api_key_create(organization=organization, name="webhook-tests")
        return key

    return make


def drain_due(jobs, timeout: float = 10.0) -> None:
    """Like `jobs_worker.drain()`, but leaves delayed messages (a retry an hour away) waiting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = sum(q.unfinished_tasks for name, q in jobs.broker.queues.items() if not name.endswith(".DQ"))
        if not busy:
            return
        time.sleep(0.01)
    raise TimeoutError("the job queues did not empty in time")
