"""The one client of Meta's Graph API (urllib3): Send API, pages, profiles, conversations, OAuth.

Configured from settings (FACEBOOK_GRAPH_URL, a versioned base a local fake can take over;
FACEBOOK_GRAPH_TIMEOUT; the app id and secret). It never retries by itself: callers are jobs,
and a `GraphError` says whether trying again later can help (`transient`) or the token is dead
(`token_invalid`). Access tokens travel in the query string as Meta documents, with
`appsecret_proof` when the app secret is known; no error message here ever includes a URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import urllib3
from django.conf import settings

USER_AGENT = "realestate-assistant-graph/1.0"
# Graph error codes that mean "later": unknown/service hiccups, and the rate limits (app, user,
# page, and per-hour calls). Everything else is permanent for the request as it is.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
# The access token expired, was revoked or the person changed their password: only a reconnect helps.
TOKEN_INVALID_CODES = frozenset({102, 190})
# Send API: "this message is sent outside of allowed window".
OUTSIDE_WINDOW_SUBCODE = 2018278
SUBSCRIBED_FIELDS = ("messages", "messaging_postbacks")

_pool = urllib3.PoolManager(num_pools=20, maxsize=8, block=False, headers={"User-Agent": USER_AGENT})


class GraphError(Exception):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        subcode: int | None = None,
        transient: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.subcode = subcode
        self.transient = transient

    @property
    def token_invalid(self) -> bool:
        return self.code in TOKEN_INVALID_CODES

    @property
    def outside_window(self) -> bool:
        return self.code == 10 and self.subcode == OUTSIDE_WINDOW_SUBCODE

    def __str__(self) -> str:
        code = f" (Graph error {self.code}{f'/{self.subcode}' if self.subcode else ''})" if self.code else ""
        return f"{self.message}{code}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def graph_error_from(status: int, payload: Any) -> GraphError:
    """Classify a failed answer: Graph's error object when there is one, else the HTTP status."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return GraphError(f"Graph API answered HTTP {status}", status=status, transient=status >= 500 or status == 429)
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    transient = (
        status >= 500 or status == 429 or code in TRANSIENT_CODES or bool(error.get("is_transient"))
    ) and code not in TOKEN_INVALID_CODES
    message = str(error.get("message") or f"Graph API answered HTTP {status}")[:300]
    return GraphError(message, status=status, code=code, subcode=subcode, transient=transient)


@dataclass
class GraphClient:
    base_url: str
    timeout: float = 10.0
    app_id: str = ""
    app_secret: str = ""
    pool: urllib3.PoolManager = field(default=_pool, repr=False)

    # --- transport ------------------------------------------------------------------------------

    def _proof(self, token: str) -> str:
        return hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str = "",
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        query = {key: value for key, value in (params or {}).items() if value is not None}
        if token:
            query["access_token"] = token
            if self.app_secret:
                query["appsecret_proof"] = self._proof(token)
        url = f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"
        if query:
            url = f"{url}?{urlencode(query)}"
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = self.pool.request(
                method,
                url,
                body=data,
                headers=headers,
                timeout=urllib3.Timeout(connect=min(5.0, self.timeout), read=self.timeout),
                retries=False,
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            # The class name only: urllib3's messages can include the URL, and so the token.
            raise GraphError(f"Graph API unreachable ({exc.__class__.__name__})", transient=True) from None
        try:
            payload = json.loads(response.data or b"{}")
        except ValueError:
            payload = None
        if 200 <= response.status < 300 and isinstance(payload, dict) and "error" not in payload:
            return payload
        raise graph_error_from(response.status, payload)

    # --- pages and profiles ---------------------------------------------------------------------

    def object_get(self, object_id: str, *, token: str, fields: str) -> dict[str, Any]:
        return self.call("GET", quote(str(object_id), safe=""), token=token, params={"fields": fields})

    def page_subscribe(self, page_id: str, *, token: str) -> dict[str, Any]:
        """Install the app on the page so that its messages reach our webhooks."""
        params = {"subscribed_fields": ",".join(SUBSCRIBED_FIELDS)}
        return self.call("POST", f"{quote(page_id, safe='')}/subscribed_apps", token=token, params=params)

    def page_unsubscribe(self, page_id: str, *, token: str) -> dict[str, Any]:
        return self.call("DELETE", f"{quote(page_id, safe='')}/subscribed_apps", token=token)

    # --- Send API -------------------------------------------------------------------------------

    def send_text(
        self, page_id: str, *, token: str, recipient_id: str, text: str, messaging_type: str, tag: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "recipient": {"id": recipient_id},
            "messaging_type": messaging_type,
            "message": {"text": text},
        }
        if tag:
            body["tag"] = tag
        return self.call("POST", f"{quote(page_id, safe='')}/messages", token=token, body=body)

    def send_action(self, page_id: str, *, token: str, recipient_id: str, action: str = "typing_on") -> dict[str, Any]:
        # A sender action travels alone: Meta refuses one combined with a message.
        body = {"recipient": {"id": recipient_id}, "sender_action": action}
        return self.call("POST", f"{quote(page_id, safe='')}/messages", token=token, body=body)

    # --- Conversations API (backfill) -----------------------------------------------------------

    def conversations(
        self,
        page_id: str,
        *,
        token: str,
        platform: str,
        after: str | None = None,
        limit: int = 25,
        messages_limit: int = 25,
    ) -> dict[str, Any]:
        fields = f"participants,updated_time,messages.limit({messages_limit}){{id,message,from,created_time}}"
        params = {"platform": platform, "fields": fields, "limit": limit, "after": after}
        return self.call("GET", f"{quote(page_id, safe='')}/conversations", token=token, params=params)

    # --- OAuth ----------------------------------------------------------------------------------

    def oauth_code_exchange(self, *, code: str, redirect_uri: str) -> str:
        """The user access token of an OAuth code from Facebook Login."""
        params = {
            "client_id": self.app_id,
            "client_secret": self.app_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        }
        return str(self.call("GET", "oauth/access_token", params=params).get("access_token") or "")

    def oauth_long_lived(self, *, token: str) -> str:
        """A long-lived user token: page tokens obtained with it do not expire."""
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": self.app_id,
            "client_secret": self.app_secret,
            "fb_exchange_token": token,
        }
        return str(self.call("GET", "oauth/access_token", params=params).get("access_token") or "")


def graph_client() -> GraphClient:
    return GraphClient(
        base_url=settings.FACEBOOK_GRAPH_URL,
        timeout=settings.FACEBOOK_GRAPH_TIMEOUT,
        app_id=settings.FACEBOOK_APP_ID,
        app_secret=settings.FACEBOOK_APP_SECRET,
    )
