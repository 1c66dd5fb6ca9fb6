"""A local stand-in for Meta's Graph API, for tests: pages, profiles, the Send API, conversations, OAuth.

A real HTTP server on 127.0.0.1 (in a thread) that records every request and answers the way the
Graph API does, with the versioned base path of FACEBOOK_GRAPH_URL (`base_url`). Tokens are checked:
an unknown or revoked token gets OAuthException 190. `fail_next()` scripts error answers
(HTTP status + Graph error code) for the next matching requests.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.local_server import LocalServer


@dataclass
class GraphRequest:
    method: str
    path: str  # without the version prefix, e.g. "/123/messages"
    query: dict[str, str]
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    page_id: str
    name: str
    token: str
    instagram_id: str | None = None
    instagram_username: str = ""
    subscribed: bool = False


class FakeGraph(LocalServer):
    def __init__(self, *, version: str = "v21.0", app_id: str = "app-1", app_secret: str = "app-secret"):  # noqa: S107  (a test double)
        self.version = version
        self.app_id = app_id
        self.app_secret = app_secret
        self.pages: dict[str, Page] = {}
        self.user_tokens: dict[str, set[str]] = {}  # user token → ids of the pages it manages
        self.codes: dict[str, str] = {}  # OAuth code → user token
        self.profiles: dict[str, dict[str, Any]] = {}  # PSID/IGSID → profile fields
        self.conversations: dict[tuple[str, str], list[dict[str, Any]]] = {}  # (page, platform) → newest first
        self.conversations_page_size = 2
        self.revoked: set[str] = set()
        self.requests: list[GraphRequest] = []
        self._failures: collections.deque[tuple[str, str, str, int, dict[str, Any]]] = collections.deque()
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path = parts.path
                prefix = f"/{fake.version}"
                if path.startswith(prefix):
                    path = path[len(prefix) :]
                request = GraphRequest(method, path, query, body, {k.lower(): v for k, v in self.headers.items()})
                with fake._lock:
                    fake.requests.append(request)
                    fake._lock.notify_all()
                status, payload = fake.answer(request)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_DELETE(self):
                self._handle("DELETE")

        self._serve(Handler)

    # --- set-up -----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{self.origin}/{self.version}"

    def add_page(
        self,
        page_id: str,
        *,
        name: str = "Acme Realty",
        token: str | None = None,
        instagram_id: str | None = None,
        instagram_username: str = "acme.realty",
    ) -> Page:
        page = Page(page_id, name, token or f"page-token-{page_id}", instagram_id, instagram_username)
        self.pages[page_id] = page
        return page

    def add_user(self, token: str, *, pages: list[str], code: str | None = None) -> None:
        self.user_tokens[token] = set(pages)
        if code:
            self.codes[code] = token

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def fail_next(
        self,
        *,
        status: int = 500,
        code: int | None = None,
        subcode: int | None = None,
        path: str = "",
        method: str = "",
        body_has: str = "",
        message: str = "Scripted failure",
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests whose path contains `path` with an error (when `method` and a
        top-level key `body_has` of the JSON body match too: "message" picks replies, not typing_on)."""
        error: dict[str, Any] = {
            "message": message,
            "type": "OAuthException" if code == 190 else "GraphMethodException",
        }
        if code is not None:
            error["code"] = code
        if subcode is not None:
            error["error_subcode"] = subcode
        for _ in range(times):
            self._failures.append((method, path, body_has, status, {"error": error}))

    # --- what happened ------------------------------------------------------------------------------

    def sent(self, page_id: str | None = None) -> list[GraphRequest]:
        """Send API calls carrying a message (not sender actions), in order."""
        return [
            r
            for r in self.requests
            if r.method == "POST"
            and r.path.endswith("/messages")
            and r.body
            and "message" in r.body
            and (page_id is None or r.path == f"/{page_id}/messages")
        ]

    def actions(self) -> list[GraphRequest]:
        return [r for r in self.requests if r.method == "POST" and r.body and "sender_action" in r.body]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[GraphRequest]:
        with self._lock:
            self._lock.wait_for(lambda: len(self.sent()) >= count, timeout=timeout)
            return self.sent()

    # --- answers -------------------------------------------------------------------------------------

    def _error(self, status: int, code: int, message: str, subcode: int | None = None) -> tuple[int, dict]:
        error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "fake"}
        if subcode is not None:
            error["error_subcode"] = subcode
        return status, {"error": error}

    def _scripted(self, request: GraphRequest) -> tuple[int, dict] | None:
        with self._lock:
            for index, (method, path, body_has, status, payload) in enumerate(self._failures):
                body_ok = not body_has or (request.body is not None and body_has in request.body)
                if (not method or method == request.method) and path in request.path and body_ok:
                    del self._failures[index]
                    return status, payload
        return None

    def _page_for_token(self, token: str) -> Page | None:
        return next((page for page in self.pages.values() if page.token == token), None)

    def answer(self, request: GraphRequest) -> tuple[int, dict]:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        if request.path == "/oauth/access_token":
            return self._oauth(request.query)
        token = request.query.get("access_token", "")
        if not token or token in self.revoked or (token not in self.user_tokens and not self._page_for_token(token)):
            return self._error(400, 190, "Error validating access token: The session has been invalidated.")
        proof = request.query.get("appsecret_proof")
        expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and proof != expected:
            return self._error(400, 100, "Invalid appsecret_proof provided in the API argument")
        parts = [part for part in request.path.split("/") if part]
        if len(parts) == 1 and request.method == "GET":
            return self._object(parts[0], token, request.query.get("fields", ""))
        if len(parts) == 2:
            page = self.pages.get(parts[0])
            page_token_ok = page is not None and page.token == token
            if parts[1] == "subscribed_apps":
                if not page_token_ok:
                    return self._error(403, 200, "Permissions error: a page access token is required")
                page.subscribed = request.method == "POST"
                return 200, {"success": True}
            if parts[1] == "messages" and request.method == "POST":
                if not page_token_ok:
                    return self._error(403, 200, "Permissions error: a page access token is required")
                body = request.body or {}
                recipient = (body.get("recipient") or {}).get("id")
                if "sender_action" in body:
                    return 200, {"recipient_id": recipient}
                text = (body.get("message") or {}).get("text") or ""
                limit_bytes = 1000 if page.instagram_id else None
                if (limit_bytes and len(text.encode()) > limit_bytes) or len(text) > 2000:
                    return self._error(
                        400, 100, "(#100) Length of param message[text] must be less than or equal to the limit"
                    )
                return 200, {"recipient_id": recipient, "message_id": f"m_out_{next(self._ids)}"}
            if parts[1] == "conversations" and request.method == "GET":
                if not page_token_ok:
                    return self._error(403, 200, "Permissions error: a page access token is required")
                return self._conversations(page, request.query)
        return self._error(400, 100, "Unsupported request")

    def _oauth(self, query: dict[str, str]) -> tuple[int, dict]:
        if query.get("client_id") != self.app_id or query.get("client_secret") != self.app_secret:
            return self._error(400, 1, "Error validating client secret.")
        if query.get("grant_type") == "fb_exchange_token":
            short = query.get("fb_exchange_token", "")
            if short not in self.user_tokens:
                return self._error(400, 190, "Invalid OAuth access token.")
            long_lived = f"long-{short}"
            self.user_tokens[long_lived] = self.user_tokens[short]
            return 200, {"access_token": long_lived, "token_type": "bearer", "expires_in": 5183944}
        token = self.codes.pop(query.get("code", ""), None)
        if token is None:
            return self._error(400, 100, "Invalid verification code format.")
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": 3600}

    def _object(self, object_id: str, token: str, fields: str) -> tuple[int, dict]:
        page = self.pages.get(object_id)
        if page is not None:
            manages = object_id in self.user_tokens.get(token, set())
            if page.token != token and not manages:
                return self._error(403, 10, "Permission denied: this token cannot read the page")
            answer: dict[str, Any] = {"id": page.page_id, "name": page.name}
            if "access_token" in fields:
                answer["access_token"] = page.token
            if "instagram_business_account" in fields and page.instagram_id:
                answer["instagram_business_account"] = {"id": page.instagram_id, "username": page.instagram_username}
            return 200, answer
        profile = self.profiles.get(object_id)
        if profile is not None and self._page_for_token(token):
            wanted = [name.strip() for name in fields.split(",") if name.strip()]
            return 200, {"id": object_id, **{name: profile[name] for name in wanted if name in profile}}
        return self._error(400, 100, f"Unsupported get request. Object with ID '{object_id}' does not exist")

    def _conversations(self, page: Page, query: dict[str, str]) -> tuple[int, dict]:
        items = self.conversations.get((page.page_id, query.get("platform", "")), [])
        start = int(query.get("after") or 0)
        size = min(int(query.get("limit") or 25), self.conversations_page_size)
        chunk = items[start : start + size]
        answer: dict[str, Any] = {
            "data": chunk,
            "paging": {"cursors": {"before": str(start), "after": str(start + size)}},
        }
        if start + size < len(items):
            # Meta's `next` is an absolute URL on its own host; clients must not need to follow it.
            answer["paging"]["next"] = (
                f"https://graph.facebook.com/{self.version}/{page.page_id}/conversations?after={start + size}"
            )
        return 200, answer
