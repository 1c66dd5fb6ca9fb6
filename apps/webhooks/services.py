"""Writes of webhooks: endpoints and their secrets, the outbox rows of each event, attempts, replay and sweep.

Delivery guarantees, in one place:
- the event and its delivery rows commit together (the event hook), and after commit a drain of the
  organization's outbox is queued (coalesced: see webhook_deliveries_drain);
- an attempt holds the delivery's row lock (FOR UPDATE SKIP LOCKED) from the claim to the recorded
  result, so two messages for one delivery never send concurrently and a succeeded delivery is
  never sent again (except by replay). The lock is our lease: when a worker dies, PostgreSQL
  drops its connection and the lock with it, and the sweep re-queues the delivery. Holding a
  transaction open across one HTTP call (≤ WEBHOOK_TIMEOUT) costs a connection per worker thread,
  which the worker holds anyway; a lease column would need a timeout longer than any request.
- a receiver may still see one `webhook-id` twice (a worker killed after the receiver answered
  but before the commit): Standard Webhooks receivers deduplicate on it.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.billing.models import Entitlement
from apps.billing.services import entitlement_check
from apps.core.errors import ApplicationError, ErrorCode
from apps.core.jobs import enqueue, enqueue_on_commit
from apps.events.models import Event, EventType
from apps.tenants.models import Organization
from apps.webhooks import clients
from apps.webhooks.models import (
    ALL_EVENTS,
    OUTSTANDING,
    PING_EVENT_TYPE,
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from apps.webhooks.selectors import webhook_endpoint_active_secrets
from apps.webhooks.signing import secret_generate, signed_headers

logger = logging.getLogger(__name__)

# After a rotation the old secret keeps signing this long (the contract's 24 hours).
ROTATION_OVERLAP = timedelta(hours=24)
# A message may run a little before its ETA when the sender's and the worker's clocks differ.
CLOCK_TOLERANCE = timedelta(seconds=1)
RETRY_AFTER_MAX = 86400.0
ENDPOINT_FIELDS = ("url", "description", "event_types", "is_active")


# --- endpoints ---------------------------------------------------------------------------------


def webhook_url_validate(url: str) -> str:
    url = (url or "").strip()
    try:
        clients.url_check(url)
    except clients.UnsafeURL as exc:
        raise ApplicationError(ErrorCode.INVALID, str(exc), attr="url") from None
    return url


def event_types_validate(event_types: list[str]) -> list[str]:
    event_types = list(dict.fromkeys(event_types or []))
    if not event_types:
        raise ApplicationError(ErrorCode.INVALID, 'Name at least one event type, or ["*"] for all.', attr="event_types")
    if ALL_EVENTS in event_types:
        return [ALL_EVENTS]
    unknown = [t for t in event_types if t not in EventType.values]
    if unknown:
        raise ApplicationError(
            ErrorCode.INVALID,
            f"Unknown event type '{unknown[0]}' (choose from: {', '.join(EventType.values)}, or *).",
            attr="event_types",
        )
    return event_types


@transaction.atomic
def webhook_endpoint_create(
    *,
    organization: Organization,
    url: str,
    event_types: list[str],
    description: str = "",
    is_active: bool = True,
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint; returns it with its signing secret, which is shown to the caller only now."""
    url = webhook_url_validate(url)
    event_types = event_types_validate(event_types)
    entitlement_check(organization, Entitlement.WEBHOOK_ENDPOINTS)
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        description=description,
        event_types=event_types,
        is_active=is_active,
        secrets=[{"secret": secret, "expires_at": None}],
    )
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    unknown = set(fields) - set(ENDPOINT_FIELDS)
    if unknown:
        name = sorted(unknown)[0]
        raise ApplicationError(ErrorCode.INVALID, f"'{name}' cannot be changed.", attr=name)
    if "url" in fields:
        fields["url"] = webhook_url_validate(fields["url"])
    if "event_types" in fields:
        fields["event_types"] = event_types_validate(fields["event_types"])
    was_active = endpoint.is_active
    for name, value in fields.items():
        setattr(endpoint, name, value)
    update_fields = [*fields, "updated_at"]
    if endpoint.is_active and not was_active:
        # Re-enabled: a fresh start, with no memory of the failures that disabled it.
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        update_fields += ["disabled_reason", "failing_since"]
    endpoint.save(update_fields=update_fields)
    if was_active and not endpoint.is_active:
        webhook_endpoint_disable(endpoint=endpoint, reason="Disabled by an administrator.")
    return endpoint


@transaction.atomic
def webhook_endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> WebhookEndpoint:
    """Stop delivering to the endpoint: its outstanding deliveries die (a replay can revive them)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason=reason[:500], updated_at=timezone.now()
    )
    endpoint.is_active, endpoint.disabled_reason = False, reason[:500]
    # SKIP LOCKED: a delivery in another worker's hands finds the endpoint disabled on its next try;
    # waiting for its lock here could deadlock with that worker disabling the same endpoint.
    outstanding = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True)
        .filter(endpoint=endpoint, status__in=OUTSTANDING)
        .values_list("id", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=outstanding).update(
        status=DeliveryStatus.DEAD, next_attempt_at=None, last_error=f"Endpoint disabled: {reason}"[:2000]
    )
    logger.info("webhook endpoint %s disabled: %s", endpoint.pk, reason)
    return endpoint


@transaction.atomic
def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """A new current secret; the previous one signs too for 24 hours, older ones stop now."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    now = timezone.now()
    still_signing = set(webhook_endpoint_active_secrets(endpoint=endpoint, now=now))
    kept = []
    for entry in endpoint.secrets:
        if entry["secret"] not in still_signing:
            continue
        if entry.get("expires_at") is None:
            entry = {**entry, "expires_at": (now + ROTATION_OVERLAP).isoformat()}
        kept.append(entry)
    secret = secret_generate()
    endpoint.secrets = [{"secret": secret, "expires_at": None}, *kept]
    endpoint.save(update_fields=["secrets", "updated_at"])
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


@transaction.atomic
def webhook_endpoint_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a signed `webhook.test` delivery to this endpoint alone."""
    if not endpoint.is_active:
        raise ApplicationError(ErrorCode.CONFLICT, "The endpoint is disabled; enable it before testing it.")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=PING_EVENT_TYPE, webhook_id=f"msg_{uuid.uuid4().hex}"
    )
    _enqueue(delivery)
    return delivery


# --- the outbox ----------------------------------------------------------------------------------


def webhook_id_for(event: Event) -> str:
    # Derived from the event: every destination of one event sees the same id (as Svix does),
    # and it never changes across retries and replays.
    return f"msg_{event.uid.hex}"


@functools.cache
def _fan_out_sql(*, platform: bool) -> str:
    d, p = WebhookDelivery._meta.db_table, WebhookEndpoint._meta.db_table
    # Every NOT NULL column without a database default is listed: a new such field must be added here.
    columns = (
        '"event_id", "endpoint_id", "event_type", "webhook_id", "status", "attempt_count", "schedule_offset", '
        '"next_attempt_at", "last_error", "created_at", "updated_at"'
    )
    values = "%(event)s, {endpoint}, %(type)s, %(webhook_id)s, %(status)s, 0, 0, %(now)s, '', %(now)s, %(now)s"
    sql = (
        f'INSERT INTO "{d}" ({columns}) '
        f'SELECT {values.format(endpoint="p.id")} FROM "{p}" p '
        'WHERE p."is_active" AND p."event_types" && %(types)s::varchar[]'
    )
    if platform:  # N8N_WEBHOOK_URL: a row with no endpoint
        sql += f" UNION ALL SELECT {values.format(endpoint='NULL::bigint')}"
    return sql + ' RETURNING "id"'


# savepoint=False: it runs inside event_record's transaction, once per event (a hot path).
@transaction.atomic(savepoint=False)
def webhook_deliveries_create_for_event(event: Event) -> list[int]:
    """The event hook: one delivery per subscribed active endpoint (+ N8N_WEBHOOK_URL), queued after commit.

    One INSERT … SELECT finds the subscribers and writes their rows (see the hot path note below); after
    commit they go out in a drain's batches (webhook_deliveries_drain). Retries, replays, pings and the
    sweep send a message per delivery.
    """
    params = {
        "event": event.pk,
        "type": event.type,
        "webhook_id": webhook_id_for(event),
        "status": DeliveryStatus.PENDING,
        "now": timezone.now(),
        "types": [event.type, ALL_EVENTS],
    }
    with connection.cursor() as cursor:
        cursor.execute(_fan_out_sql(platform=bool(settings.N8N_WEBHOOK_URL)), params)
        ids = [row[0] for row in cursor.fetchall()]
    if ids:
        schema = connection.schema_name
        transaction.on_commit(lambda: _drain_kick(schema), robust=False)
    return ids


def _enqueue(delivery: WebhookDelivery, *, delay_s: float | None = None) -> None:
    from apps.webhooks.actors import webhook_deliver

    delay_ms = int(delay_s * 1000) if delay_s else None
    enqueue_on_commit(webhook_deliver, delivery.pk, delay_ms=delay_ms)


def _iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def webhook_payload(delivery: WebhookDelivery) -> bytes:
    """The body: {"type", "timestamp", "data"}, the same bytes on every try."""
    if delivery.event is not None:
        body = {"type": delivery.event.type, "timestamp": _iso(delivery.event.created_at), "data": delivery.event.data}
    else:
        endpoint = delivery.endpoint
        data = {"webhook_endpoint": {"id": endpoint.pk, "url": endpoint.url}} if endpoint else {}
        body = {"type": delivery.event_type, "timestamp": _iso(delivery.created_at), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _destination(delivery: WebhookDelivery) -> tuple[str, list[str], bool]:
    """(url, signing secrets, trusted): the platform's own N8N URL is trusted to be private."""
    if delivery.endpoint is None:
        secret = settings.WEBHOOK_SIGNING_SECRET
        return settings.N8N_WEBHOOK_URL, [secret] if secret else [], True
    return delivery.endpoint.url, webhook_endpoint_active_secrets(endpoint=delivery.endpoint), False


# The hot path of the outbox is two statements per attempt, written in SQL: the ORM spent ~1.5 ms of
# CPU compiling the claim (select_related + FOR UPDATE) and ~1.2 ms saving attempt and delivery,
# against ~0.7 ms for both in SQL, and the worker's CPU is what bounds deliveries per second
# (benchmarks/outbox.py). Columns come from the models' _meta, so the SQL follows the models.


def _columns(model, alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def _claim_sql(where: str) -> str:
    """Lock deliveries matching `where` (skipping those another worker holds), with their event and endpoint."""
    d, e, p = WebhookDelivery._meta, Event._meta, WebhookEndpoint._meta
    return (
        f"SELECT {_columns(WebhookDelivery, 'd')}, {_columns(Event, 'e')}, {_columns(WebhookEndpoint, 'p')} "
        f'FROM "{d.db_table}" d '
        f'LEFT JOIN "{e.db_table}" e ON e."id" = d."event_id" '
        f'LEFT JOIN "{p.db_table}" p ON p."id" = d."endpoint_id" '
        f"WHERE {where} FOR UPDATE OF d SKIP LOCKED"
    )


@functools.cache
def _claim_one_sql() -> str:
    return _claim_sql('d."id" = %s AND d."status" IN (%s, %s) AND d."next_attempt_at" <= %s')


@functools.cache
def _claim_due_sql() -> str:
    # Oldest first, served by webhook_delivery_due_idx.
    return _claim_sql(
        'd."status" IN (%s, %s) AND d."next_attempt_at" <= %s ORDER BY d."next_attempt_at", d."id" LIMIT %s'
    )


def _instance(model, values: list) -> Any:
    """A model instance from raw column values, with the field converters the ORM would apply (JSON)."""
    if values[0] is None:  # the LEFT JOIN found no row
        return None
    fields = model._meta.concrete_fields
    converted = [
        field.from_db_value(value, None, connection) if value is not None and hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], converted)


def _deliveries_from_rows(rows: list[tuple]) -> list[WebhookDelivery]:
    """Deliveries with their event and endpoint from claim rows; one endpoint instance per endpoint."""
    sizes = [len(model._meta.concrete_fields) for model in (WebhookDelivery, Event, WebhookEndpoint)]
    endpoints: dict[int, WebhookEndpoint] = {}
    deliveries = []
    for row in rows:
        delivery = _instance(WebhookDelivery, list(row[: sizes[0]]))
        delivery.event = _instance(Event, list(row[sizes[0] : sizes[0] + sizes[1]]))
        endpoint = _instance(WebhookEndpoint, list(row[sizes[0] + sizes[1] :]))
        # Shared within a claim: what one attempt learns about the endpoint (failing, disabled) the next sees.
        delivery.endpoint = endpoints.setdefault(endpoint.pk, endpoint) if endpoint is not None else None
        deliveries.append(delivery)
    return deliveries


def _delivery_claim(*, delivery_id: int, now) -> WebhookDelivery | None:
    """Lock the delivery if outstanding and due (skipped if another worker holds it), with its event and endpoint."""
    with connection.cursor() as cursor:
        cursor.execute(_claim_one_sql(), [delivery_id, *OUTSTANDING, now])
        rows = cursor.fetchall()
    return _deliveries_from_rows(rows)[0] if rows else None


def _deliveries_claim_due(*, now, limit: int) -> list[WebhookDelivery]:
    """Lock up to `limit` due outstanding deliveries, oldest first, skipping those in flight elsewhere.

    Retries that fell due are taken too (their own delayed message then finds nothing to do): a drain
    that is running anyway sends them without the message's overhead.
    """
    with connection.cursor() as cursor:
        cursor.execute(_claim_due_sql(), [*OUTSTANDING, now, limit])
        return _deliveries_from_rows(cursor.fetchall())


@functools.cache
def _record_sql() -> str:
    a, d = WebhookAttempt._meta.db_table, WebhookDelivery._meta.db_table
    return (
        f'WITH attempt AS (INSERT INTO "{a}" '
        '("delivery_id", "request_headers", "status_code", "error", "response_body", "duration_ms", "created_at") '
        "VALUES (%s, %s::jsonb, %s, %s, %s, %s, %s)) "
        f'UPDATE "{d}" SET "status" = %s, "attempt_count" = %s, "last_status_code" = %s, "last_error" = %s, '
        '"next_attempt_at" = %s, "updated_at" = %s WHERE "id" = %s'
    )


def _attempts_save(attempts: list[WebhookAttempt]) -> None:
    """Insert each attempt and save its delivery's new state: one statement each, sent together."""
    if not attempts:
        return
    now = timezone.now()
    rows = []
    for attempt in attempts:
        delivery = attempt.delivery
        delivery.updated_at = now
        rows.append([
            delivery.pk, json.dumps(attempt.request_headers), attempt.status_code, attempt.error,
            attempt.response_body, attempt.duration_ms, attempt.created_at, delivery.status, delivery.attempt_count,
            delivery.last_status_code, delivery.last_error, delivery.next_attempt_at, delivery.updated_at, delivery.pk,
        ])  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(_record_sql(), rows)


@transaction.atomic
def webhook_delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Try one delivery if it is due. None when there is nothing to do: done, not due yet, or in flight elsewhere."""
    delivery = _delivery_claim(delivery_id=delivery_id, now=timezone.now() + CLOCK_TOLERANCE)
    if delivery is None:
        return None
    return _attempts_run([delivery])[0]


# --- the drain: first tries in batches ----------------------------------------------------------------
#
# One message per delivery costs the worker ~1 ms of CPU beyond the request itself (the message, its
# transaction, its claim): a third of what bounded deliveries per second (benchmarks/outbox.py). New
# events therefore queue a drain of their organization's outbox instead, which claims the due
# deliveries DRAIN_BATCH at a time (one query, one transaction, row locks as the lease, as above) and
# sends each batch concurrently, so one slow receiver holds up its batch for WEBHOOK_TIMEOUT at most.
#
# Drains are coalesced: after a commit, a drain is queued only if none is waiting (a marker in the
# cache), and a drain removes the marker before its first claim. A delivery committed before that
# removal is seen by the claim; one committed after it queues a new drain. So every commit is covered,
# with one waiting drain per organization however many events arrive. A drain that finds a full batch
# queues another (through the same marker), so a backlog spreads over the worker's threads. This needs
# the producers and the drains to share the cache: true of the in-process worker and of a Redis cache;
# otherwise (RabbitMQ without REDIS_URL) every commit queues its own drain. A lost drain message leaves
# its marker for DRAIN_MARK_SECONDS; the sweep re-queues what it stranded, as for any lost message.

DRAIN_BATCH = 20
DRAIN_SECONDS = 20.0
DRAIN_MARK_SECONDS = 5
# Requests of one batch in flight at once: a receiver that hangs costs the batch WEBHOOK_TIMEOUT per
# DRAIN_CONCURRENCY of its deliveries, not per delivery; more threads only add switching on 2 cores.
DRAIN_CONCURRENCY = 8


def _drain_marker(schema: str) -> str:
    return f"webhooks:drain:{schema}"


def _drains_coalesce() -> bool:
    from dramatiq.brokers.stub import StubBroker

    from apps.webhooks.actors import webhooks_drain

    return isinstance(webhooks_drain.broker, StubBroker) or not isinstance(caches["default"], LocMemCache)


def _drain_kick(schema: str) -> None:
    """Queue a drain of `schema`'s outbox unless one is already waiting (call after the commit)."""
    from apps.webhooks.actors import webhooks_drain

    try:
        if _drains_coalesce() and not cache.add(_drain_marker(schema), 1, DRAIN_MARK_SECONDS):
            return
    except Exception:  # the cache is down: queue the drain anyway, uncoalesced
        logger.warning("webhook drain marker unavailable for %s; queueing a drain anyway", schema, exc_info=True)
    enqueue(webhooks_drain, schema=schema)


def webhook_deliveries_drain(*, batch: int | None = None) -> int:
    """Attempt the due deliveries of this schema, a batch at a time, until none is left; returns how many."""
    batch = batch or DRAIN_BATCH
    schema = connection.schema_name
    if _drains_coalesce():
        cache.delete(_drain_marker(schema))
    started = time.monotonic()
    tried = 0
    while True:
        claimed = _due_batch_attempt(limit=batch)
        tried += claimed
        if claimed < batch:
            return tried
        # A full batch: there may be more. Another drain may help now; past DRAIN_SECONDS it takes over.
        _drain_kick(schema)
        if time.monotonic() - started >= DRAIN_SECONDS:
            return tried


@transaction.atomic
def _due_batch_attempt(*, limit: int) -> int:
    """Claim up to `limit` due deliveries and try each once; returns how many were claimed."""
    # No clock tolerance here (unlike a message's own delivery): a retry is never sent early.
    deliveries = _deliveries_claim_due(now=timezone.now(), limit=limit)
    if deliveries:
        _attempts_run(deliveries)
    return len(deliveries)


# --- one attempt of each claimed delivery -------------------------------------------------------------


def _attempts_run(deliveries: list[WebhookDelivery]) -> list[WebhookDelivery]:
    """Send each claimed delivery once (concurrently when several) and record the results."""
    sends: list[tuple[WebhookDelivery, str, bool, bytes, dict[str, str]]] = []
    for delivery in deliveries:
        endpoint = delivery.endpoint
        if endpoint is not None and not endpoint.is_active:
            _finish(delivery, status=DeliveryStatus.DEAD, error=f"Endpoint disabled: {endpoint.disabled_reason}")
            continue
        url, secrets, trusted = _destination(delivery)
        if not url:
            _finish(delivery, status=DeliveryStatus.DEAD, error="N8N_WEBHOOK_URL is no longer set.")
            continue
        body = webhook_payload(delivery)
        # Signed at send time: receivers reject timestamps older than their tolerance (5 minutes).
        headers = signed_headers(webhook_id=delivery.webhook_id, timestamp=int(time.time()), body=body, secrets=secrets)
        sends.append((delivery, url, trusted, body, headers))
    if len(sends) <= 1:
        results = [_send(*send[1:]) for send in sends]
    else:
        threads = min(len(sends), DRAIN_CONCURRENCY)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook-send") as pool:
            results = list(pool.map(lambda send: _send(*send[1:]), sends))
    failing_before = {d.endpoint.pk: d.endpoint.failing_since for d in deliveries if d.endpoint is not None}
    succeeded: set[int] = set()
    attempts = []
    for (delivery, _url, _trusted, _body, headers), (response, started_at) in zip(sends, results, strict=True):
        attempts.append(_attempt_record(delivery, response=response, headers=headers, started_at=started_at))
        if response.ok and delivery.endpoint is not None:
            succeeded.add(delivery.endpoint.pk)
    _attempts_save(attempts)
    _failing_streaks_save(deliveries, failing_before, succeeded)
    return deliveries


def _send(url: str, trusted: bool, body: bytes, headers: dict[str, str]) -> tuple[clients.Response, Any]:
    started_at = timezone.now()
    started = time.perf_counter()
    try:
        target = clients.target_resolve(url, allow_private=trusted)
        response = clients.post(target, body=body, headers=headers)
    except clients.UnsafeURL as exc:
        response = clients.Response(None, int((time.perf_counter() - started) * 1000), error=f"Refused: {exc}")
    except ConnectionError as exc:
        response = clients.Response(None, int((time.perf_counter() - started) * 1000), error=str(exc))
    return response, started_at


def _status_error(status_code: int | None) -> str:
    """What an answer that is no success tells the endpoint's owner; a redirect says it was not followed."""
    if status_code is not None and 300 <= status_code < 400:
        return f"HTTP {status_code} (a redirect: deliveries do not follow them; point the endpoint at its target)"
    return f"HTTP {status_code}"


def _failing_streaks_save(deliveries: list[WebhookDelivery], before: dict[int, Any], succeeded: set[int]) -> None:
    """Write each endpoint's failing streak once per claim, as its attempts left it.

    A streak that ended is cleared; one that started keeps an earlier start another worker wrote,
    unless a success of this claim ended that one.
    """
    endpoints = {d.endpoint.pk: d.endpoint for d in deliveries if d.endpoint is not None}
    for pk, endpoint in endpoints.items():
        if endpoint.failing_since == before.get(pk) or not endpoint.is_active:
            continue
        rows = WebhookEndpoint.objects.filter(pk=pk)
        if endpoint.failing_since is None:
            rows.filter(failing_since__isnull=False).update(failing_since=None)
        elif pk in succeeded:
            rows.update(failing_since=endpoint.failing_since)
        else:
            rows.filter(failing_since__isnull=True).update(failing_since=endpoint.failing_since)


def _attempt_record(
    delivery: WebhookDelivery, *, response: clients.Response, headers: dict[str, str], started_at
) -> WebhookAttempt:
    """The attempt (saved by the caller, with the delivery's new state) and what it means for the delivery."""
    now = timezone.now()
    endpoint = delivery.endpoint
    attempt = WebhookAttempt(
        delivery=delivery,
        request_headers=headers,
        status_code=response.status_code,
        error=response.error,
        response_body=response.body_excerpt,
        duration_ms=response.duration_ms,
        created_at=started_at,
    )
    delivery.attempt_count += 1
    delivery.last_status_code = response.status_code
    error = response.error or ("" if response.ok else _status_error(response.status_code))

    if response.ok:
        if endpoint is not None:
            endpoint.failing_since = None  # written once for the claim (_failing_streaks_save)
        _finish(delivery, status=DeliveryStatus.SUCCEEDED, error="", save=False)
        return attempt

    if endpoint is not None and not endpoint.is_active:
        # An earlier attempt of this claim disabled the endpoint (410, or failing too long).
        _finish(delivery, status=DeliveryStatus.DEAD, error=error, save=False)
        return attempt
    disable_reason = ""
    if endpoint is not None:
        disable_after = timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
        if response.status_code == 410:
            disable_reason = "The endpoint answered 410 Gone."
        elif endpoint.failing_since is not None and now - endpoint.failing_since >= disable_after:
            disable_reason = (
                f"Failing since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC "
                f"({settings.WEBHOOK_DISABLE_AFTER_DAYS} days or more); last error: {error}"
            )
        elif endpoint.failing_since is None:
            endpoint.failing_since = now
    if disable_reason:
        webhook_endpoint_disable(endpoint=endpoint, reason=disable_reason)
        _finish(delivery, status=DeliveryStatus.DEAD, error=error, save=False)
        return attempt

    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    tries = delivery.attempt_count - delivery.schedule_offset
    if tries > len(schedule):
        _finish(delivery, status=DeliveryStatus.DEAD, error=error, save=False)
        return attempt
    delay = float(schedule[tries - 1])
    retry_after = response.retry_after()
    if retry_after is not None:
        # Never sooner than the receiver asked, but a receiver cannot park a delivery for longer
        # than a day (or the schedule's longest step, if longer).
        delay = max(delay, min(retry_after, max(RETRY_AFTER_MAX, *schedule)))
    delivery.next_attempt_at = now + timedelta(seconds=delay)
    _enqueue(delivery, delay_s=delay)
    _finish(delivery, status=DeliveryStatus.FAILED, error=error, keep_next=True, save=False)
    return attempt


def _finish(
    delivery: WebhookDelivery, *, status: str, error: str, keep_next: bool = False, save: bool = True
) -> WebhookDelivery:
    delivery.status = status
    delivery.last_error = error[:2000]
    if not keep_next:
        delivery.next_attempt_at = None
    if save:
        delivery.save(
            update_fields=["status", "attempt_count", "last_status_code", "last_error", "next_attempt_at", "updated_at"]
        )
    return delivery


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send again with the same webhook-id, with a fresh retry schedule."""
    try:
        delivery = (
            WebhookDelivery.objects.select_for_update(nowait=True, of=("self",))
            .select_related("endpoint")
            .get(pk=delivery.pk)
        )
    except DatabaseError:
        raise ApplicationError(ErrorCode.CONFLICT, "This delivery is being sent right now.") from None
    if delivery.status == DeliveryStatus.PENDING:
        raise ApplicationError(ErrorCode.CONFLICT, "This delivery is already queued.")
    if delivery.endpoint is not None and not delivery.endpoint.is_active:
        raise ApplicationError(ErrorCode.CONFLICT, "The endpoint is disabled; enable it before replaying.")
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.schedule_offset = delivery.attempt_count
    delivery.requeued_at = None
    delivery.save(update_fields=["status", "next_attempt_at", "schedule_offset", "requeued_at", "updated_at"])
    _enqueue(delivery)
    return delivery


# --- periodic work (per organization, in its schema) ------------------------------------------------


@transaction.atomic
def webhook_deliveries_requeue_due(*, limit: int = 1000) -> int:
    """The sweep: queue again the deliveries overdue by more than WEBHOOK_SWEEP_GRACE (their message was lost).

    Deliveries in flight are skipped (their row is locked); each is re-queued at most once per grace period.
    """
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE)
    ids = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True)
        .filter(status__in=OUTSTANDING, next_attempt_at__lte=cutoff)
        .filter(Q(requeued_at__isnull=True) | Q(requeued_at__lte=cutoff))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(requeued_at=now)
        for delivery_id in ids:
            _enqueue(WebhookDelivery(pk=delivery_id))
        logger.info("webhook sweep re-queued %d deliveries", len(ids))
    return len(ids)


def webhook_deliveries_run_due(*, limit: int = 1000) -> int:
    """Attempt the due deliveries of this schema right here (run_automations), in the drain's batches, up to
    `limit`; returns how many were tried."""
    tried = 0
    while tried < limit:
        claimed = _due_batch_attempt(limit=min(DRAIN_BATCH, limit - tried))
        tried += claimed
        if claimed == 0:
            return tried
    return tried
