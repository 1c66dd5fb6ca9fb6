"""The outgoing HTTP client of webhooks (urllib3): address checks, pinned connections, no redirects, capped reads.

Receivers' URLs are chosen by tenants, so each request is a server-side request forgery risk:
the host is resolved once, every resolved address must be public (unless
WEBHOOK_ALLOW_PRIVATE_HOSTS), and the connection is made to that checked address with the
original name only in `Host` and TLS SNI/verification, so DNS cannot answer differently
between the check and the connect.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

USER_AGENT = "realestate-assistant-webhooks/1.0"
# Names that are local by definition, refused before any lookup.
BLOCKED_HOSTNAMES = ("localhost", "metadata.google.internal", "metadata")
EXCERPT_CHARS = 1000

# One pool per (scheme, address, port, TLS name): keep-alive connections survive between deliveries.
# maxsize: each drain has services.DRAIN_CONCURRENCY requests in flight, and several drains run side by side.
_attempt = threading.local()  # the connections the current thread's attempt used (for its deadline)


class _AttemptTracking:
    """A connection that tells the current attempt it carries its request (see post's deadline)."""

    def request(self, *args, **kwargs):
        connections = getattr(_attempt, "connections", None)
        if connections is not None:
            connections.append(self)
        return super().request(*args, **kwargs)


class _HTTPConnection(_AttemptTracking, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_AttemptTracking, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_pools = urllib3.PoolManager(num_pools=200, maxsize=64, block=False)
_pools.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class UnsafeURL(ValueError):
    """A URL that must not be called: wrong scheme, no host, or an address that is not public."""


@dataclass(frozen=True)
class Target:
    scheme: str
    hostname: str
    port: int
    path: str  # with the query string
    addresses: tuple[str, ...]  # the checked IPs, tried in order; the connection goes to one of these

    @property
    def host_header(self) -> str:
        name = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


@dataclass
class Response:
    status_code: int | None
    duration_ms: int
    body_excerpt: str = ""
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def retry_after(self, now: datetime | None = None) -> float | None:
        """Seconds the receiver asked us to wait (delta-seconds or an HTTP date), if it did."""
        value = (self.headers.get("retry-after") or "").strip()
        if not value:
            return None
        if value.isascii() and value.isdigit():  # str.isdigit takes "²", which float() refuses
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def address_allowed(address: str) -> bool:
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global excludes private, loopback, link-local (169.254.169.254 and the other cloud
    # metadata services), shared (100.64/10), reserved, documentation and unique-local ranges.
    return ip.is_global and not ip.is_multicast


_HOSTNAME_RE = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")


def _hostname_valid(hostname: str) -> bool:
    """An IP literal or DNS labels (single-label names too: `crm` on a private network that allows it)."""
    try:
        ipaddress.ip_address(hostname)
        return True
    except ValueError:
        pass
    try:
        ascii_name = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _HOSTNAME_RE.fullmatch(ascii_name) is not None


def url_parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Use an http:// or https:// URL.")
    hostname = (parts.hostname or "").rstrip(".").lower()
    if not hostname:
        raise UnsafeURL("The URL has no host.")
    if not _hostname_valid(hostname):  # a space or a NUL in it, which urlsplit takes
        raise UnsafeURL(f"{hostname[:100]!r} is not a valid host name.")
    if parts.username or parts.password:
        raise UnsafeURL("Credentials in the URL are not supported; use the signature to authenticate us.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, hostname, port or (443 if parts.scheme == "https" else 80), path


def _hostname_blocked(hostname: str) -> bool:
    return hostname in BLOCKED_HOSTNAMES or hostname.endswith(".localhost")


def addresses(hostname: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(hostname))]  # an IP literal needs no lookup
    except ValueError:
        pass
    infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def url_check(url: str, *, resolve: bool = True) -> None:
    """Refuse a URL we would not call. A name that does not resolve (yet) passes: delivery checks again."""
    _scheme, hostname, port, _path = url_parse(url)
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return
    if _hostname_blocked(hostname):
        raise UnsafeURL(f"'{hostname}' is a local host name; webhooks go to public addresses only.")
    if not resolve:
        return
    try:
        found = addresses(hostname, port)
    except (socket.gaierror, UnicodeError):
        return
    for address in found:
        if not address_allowed(address):
            raise UnsafeURL(f"'{hostname}' resolves to {address}, which is not a public address.")


def target_resolve(url: str, *, allow_private: bool = False) -> Target:
    """Resolve and check the URL now; the request then goes to the returned address only."""
    scheme, hostname, port, path = url_parse(url)
    if not allow_private and not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS and _hostname_blocked(hostname):
        raise UnsafeURL(f"'{hostname}' is a local host name.")
    try:
        found = addresses(hostname, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise ConnectionError(f"Cannot resolve '{hostname}': {exc}") from None
    if not found:
        raise ConnectionError(f"'{hostname}' has no address.")
    if not allow_private:
        for address in found:
            if not address_allowed(address):
                raise UnsafeURL(f"'{hostname}' resolves to {address}, which is not a public address.")
    return Target(scheme=scheme, hostname=hostname, port=port, path=path, addresses=tuple(found))


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Response:
    """POST once; never raises for network trouble (it becomes `error`), never follows a redirect.

    The next checked address is tried only when connecting fails (`localhost` may list ::1 first).
    """
    timeout = settings.WEBHOOK_TIMEOUT if timeout is None else timeout
    request_headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    started = time.perf_counter()
    # urllib3's timeout bounds each socket operation: a receiver trickling a byte a second held an
    # attempt for minutes, past the actor's time limit, and the attempt was never recorded. At the
    # deadline a watchdog shuts the attempt's socket down, and the read fails at once.
    _attempt.connections = connections = []
    deadline_passed = threading.Event()

    def watchdog() -> None:
        deadline_passed.set()
        for conn in list(connections):
            with contextlib.suppress(OSError, AttributeError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(timeout, watchdog)
    timer.daemon = True
    timer.start()
    try:
        response = _attempt_post(target, body, request_headers, timeout, started)
    finally:
        timer.cancel()
        _attempt.connections = None
    if deadline_passed.is_set() and response.status_code is None:
        return Response(None, _ms(started), error=f"Timed out after {timeout:g} s.")
    return response


def _attempt_post(
    target: Target, body: bytes, request_headers: dict[str, str], timeout: float, started: float
) -> Response:
    error = "No address to connect to."
    for address in target.addresses:
        pool_kwargs = {}
        if target.scheme == "https":
            # The socket goes to the checked IP; TLS still names and verifies the original host.
            pool_kwargs = {"server_hostname": target.hostname, "assert_hostname": target.hostname}
        pool = _pools.connection_from_host(address, target.port, target.scheme, pool_kwargs=pool_kwargs)
        remaining = max(0.1, timeout - (time.perf_counter() - started))
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=request_headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                timeout=urllib3.Timeout(total=remaining),
                preload_content=False,
            )
        except urllib3.exceptions.NewConnectionError as exc:
            error = _describe(exc)
            continue  # nothing was sent: the next address is safe to try
        except urllib3.exceptions.TimeoutError:
            return Response(None, _ms(started), error=f"Timed out after {timeout:g} s.")
        except urllib3.exceptions.HTTPError as exc:
            return Response(None, _ms(started), error=_describe(exc))
        return _read(response, started)
    return Response(None, _ms(started), error=error)


def _read(response: urllib3.BaseHTTPResponse, started: float) -> Response:
    try:
        cap = settings.WEBHOOK_RESPONSE_MAX_BYTES
        chunk = response.read(cap + 1, decode_content=True)
        response_headers = {k.lower(): v for k, v in response.headers.items()}
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        response.close()
        return Response(None, _ms(started), error=_describe(exc))
    if len(chunk) > cap:
        # More than we read: drop the connection rather than drain a body of any size.
        response.close()
    response.release_conn()
    return Response(
        response.status,
        _ms(started),
        body_excerpt=chunk[:cap].decode("utf-8", "replace")[:EXCERPT_CHARS],
        headers=response_headers,
    )


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _describe(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    text = str(reason)
    if isinstance(reason, urllib3.exceptions.NewConnectionError) or "Connection refused" in text:
        return f"Connection failed: {text}"
    return f"{type(reason).__name__}: {text}"[:500]
