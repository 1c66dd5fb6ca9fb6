"""A local stand-in for Postmark's email API, for tests: `POST /email` as Postmark answers it.

A real HTTP server on 127.0.0.1 (in a thread) that records every request. It checks the
`X-Postmark-Server-Token` header (a wrong token gets Postmark's 401 with ErrorCode 10), and
answers a good send with `{"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}`.
`fail_next(status, error_code, message)` scripts error answers for the next sends.
"""

from __future__ import annotations

import collections
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import LocalServer


@dataclass
class PostmarkRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    message_id: str = ""

    def header(self, name: str) -> str | None:
        """A mail header as Postmark received it (in the `Headers` list of {Name, Value})."""
        for item in self.body.get("Headers") or []:
            if item.get("Name", "").lower() == name.lower():
                return item.get("Value")
        return None


@dataclass
class FakePostmark(LocalServer):
    token: str = "fake-server-token"
    requests: list[PostmarkRequest] = field(default_factory=list)

    def __post_init__(self):
        self._failures: collections.deque[tuple[int, int, str]] = collections.deque()
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                request = PostmarkRequest("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                status, payload = fake.answer(request)
                with fake._lock:
                    fake.requests.append(request)
                    fake._lock.notify_all()
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/"

    def fail_next(self, status: int = 422, error_code: int = 300, message: str = "Invalid email request") -> None:
        with self._lock:
            self._failures.append((status, error_code, message))

    def answer(self, request: PostmarkRequest) -> tuple[int, dict[str, Any]]:
        if request.path.rstrip("/") != "/email":
            return 404, {"ErrorCode": 404, "Message": "Not found"}
        if request.headers.get("x-postmark-server-token") != self.token:
            return 401, {
                "ErrorCode": 10,
                "Message": "No Account or Server API tokens were supplied in the HTTP headers.",
            }
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is not None:
            status, error_code, message = failure
            return status, {"ErrorCode": error_code, "Message": message}
        request.message_id = str(uuid.uuid4())
        return 200, {
            "To": request.body.get("To", ""),
            "SubmittedAt": datetime.now(UTC).isoformat(),
            "MessageID": request.message_id,
            "ErrorCode": 0,
            "Message": "OK",
        }

    def sent(self) -> list[PostmarkRequest]:
        with self._lock:
            return [request for request in self.requests if request.message_id]
