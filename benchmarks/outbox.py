"""Benchmark of the webhook outbox: events committed → signed deliveries verified by a local receiver.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python benchmarks/outbox.py [--events 10000]

A scratch organization (deleted afterwards) gets one endpoint pointing at a receiver process on
127.0.0.1 that verifies every signature with the `standardwebhooks` package and answers 503 to
20 % of requests at random. Events are recorded one transaction each (as requests would) by
producer threads, as fast as they go (or at --rate). The jobs run on the configured broker with
worker threads in this process (the embedded default of `make run`), or with --redis URL in
--processes worker processes over Redis (as `make worker` runs them; a namespace of this run; set
REDIS_URL as well, so that producers and workers share the cache that coalesces drains, as in production).

Two phases of --events each: live (the workers deliver while the producers commit; the delivery
rate can be no higher than the producers', which it prints) and backlog (every event is committed
first, then the workers start: what the outbox itself delivers per second). For each it prints
verified deliveries per second, lost and duplicated deliveries; for the live phase also the lag
from commit to verified delivery (p50/p99, first tries and all). The baseline is the same receiver
driven by a plain HTTP client loop (pre-signed bodies, one thread). The machine's load average is
printed too: on a shared 2-core machine, other work moves these numbers a lot.

Retry delays: the production schedule (5 s, 5 min, 30 min, …) would leave the 20 % that failed
waiting minutes to hours; this run uses one second per step (nine steps, like production), so
every retry path is exercised and the run ends. The first-try lag does not depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

FAILURE_RATE = 0.2


# --- the receiver (its own process: a real receiver is another service) -----------------------------


def receiver_main(pipe, seed: int) -> None:
    """Bind, tell the port, learn the endpoint's secret, serve."""
    from standardwebhooks import Webhook

    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    pipe.send(server.server_address[1])
    webhook = Webhook(pipe.recv())
    chance = random.Random(seed)  # noqa: S311 - which requests fail, not a secret
    lock = threading.Lock()
    verified: dict[str, list[float]] = {}
    counts = {"requests": 0, "rejected": 0, "bad_signature": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                counts["requests"] += 1
                fail = chance.random() < FAILURE_RATE
            if fail:
                with lock:
                    counts["rejected"] += 1
                return self._answer(503)
            try:
                webhook.verify(body, {k.lower(): v for k, v in self.headers.items()})
            except Exception:
                with lock:
                    counts["bad_signature"] += 1
                return self._answer(400)
            now = time.time()
            with lock:
                verified.setdefault(self.headers["webhook-id"], []).append(now)
            self._answer(204)

        def do_GET(self):
            with lock:
                if self.path == "/count":  # cheap progress polling
                    payload = json.dumps({"verified": len(verified)}).encode()
                else:
                    payload = json.dumps({"verified": verified, **counts}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_DELETE(self):
            with lock:
                verified.clear()
                counts.update(requests=0, rejected=0, bad_signature=0)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server.RequestHandlerClass = Handler
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.05)


def receiver_stats(pool, base_url: str) -> dict:
    return json.loads(pool.request("GET", f"{base_url}/stats").data)


# --- workers over Redis (--redis): separate processes, as `make worker` runs them ----------------------


def _setup_django() -> None:
    import logging

    import django

    django.setup()
    # The paused worker's consumers narrate their restarts at INFO.
    logging.getLogger("dramatiq").setLevel(logging.WARNING)
    from django.conf import settings

    # Production-like: no per-query bookkeeping of DEBUG, the receiver is local, short retries (see above).
    settings.DEBUG = False
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.WEBHOOK_RETRY_SCHEDULE = [1] * 9
    settings.N8N_WEBHOOK_URL = ""


def _use_redis_broker(url: str, namespace: str):
    """The project's middleware on a Redis broker in a namespace of this run; set before the actors load."""
    import dramatiq
    from django.conf import settings
    from django_dramatiq.utils import load_middleware
    from dramatiq.brokers.redis import RedisBroker

    middleware = [load_middleware(path) for path in settings.DRAMATIQ_BROKER["MIDDLEWARE"]]
    broker = RedisBroker(url=url, namespace=namespace, middleware=middleware)
    dramatiq.set_broker(broker)
    return broker


def worker_main(url: str, namespace: str, threads: int, ready, stop) -> None:
    import dramatiq

    _setup_django()
    broker = _use_redis_broker(url, namespace)
    from apps.core.jobs import discover_actors

    discover_actors()
    broker.emit_after("process_boot")
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=50)
    worker.start()
    ready.release()
    stop.wait()
    worker.stop()


# --- measurements ----------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def baseline(pool, url: str, secret: str, events: int) -> tuple[float, int]:
    """A plain loop: POST each pre-signed body until a 2xx; returns (verified per second, requests)."""
    from apps.webhooks.signing import signed_headers

    bodies = []
    for i in range(events):
        webhook_id = f"msg_baseline_{i}"
        body = json.dumps({"type": "lead.created", "timestamp": "now", "data": {"lead": {"id": i}}}).encode()
        headers = signed_headers(webhook_id=webhook_id, timestamp=int(time.time()), body=body, secrets=[secret])
        bodies.append((body, {**headers, "Content-Type": "application/json"}))
    requests = 0
    started = time.perf_counter()
    for body, headers in bodies:
        while True:
            requests += 1
            if 200 <= pool.request("POST", url, body=body, headers=headers, retries=False).status < 300:
                break
    return events / (time.perf_counter() - started), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=8, help="worker threads")
    parser.add_argument("--producers", type=int, default=2, help="threads recording events")
    parser.add_argument("--rate", type=float, default=0, help="events per second in all (0: as fast as they go)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the last delivery")
    parser.add_argument(
        "--redis", metavar="URL", help="run the jobs over Redis in --processes worker processes instead of in-process"
    )
    parser.add_argument("--processes", type=int, default=2, help="worker processes with --redis")
    args = parser.parse_args()

    load_at_start = os.getloadavg()[0]
    _setup_django()
    spawn = get_context("spawn")
    namespace = f"bench-outbox-{uuid.uuid4().hex[:8]}"
    broker = _use_redis_broker(args.redis, namespace) if args.redis else None
    import dramatiq
    import urllib3
    from django.core.management import call_command
    from django.db import close_old_connections, transaction
    from django_tenants.utils import schema_context

    from apps.core.jobs import discover_actors
    from apps.events.services import event_record
    from apps.tenants.services import organization_create
    from apps.webhooks.models import DeliveryStatus, WebhookDelivery
    from apps.webhooks.services import webhook_endpoint_create

    call_command("init_platform", verbosity=0)
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    organization = organization_create(slug=slug, name="Outbox Benchmark", owner_email=f"bench@{slug}.test")
    parent_pipe, child_pipe = spawn.Pipe()
    worker = None
    receiver = None
    processes: list = []
    stop = spawn.Event()
    try:
        receiver = spawn.Process(target=receiver_main, args=(child_pipe, 1234), daemon=True)
        receiver.start()
        base_url = f"http://127.0.0.1:{parent_pipe.recv()}"
        with schema_context(organization.schema_name):
            _, bench_secret = webhook_endpoint_create(
                organization=organization, url=f"{base_url}/hook", event_types=["*"]
            )
        parent_pipe.send(bench_secret)

        discover_actors()
        if args.redis:
            mode = f"RedisBroker, {args.processes} worker processes × {args.threads} threads"
        else:
            broker = dramatiq.get_broker()
            broker.emit_after("process_boot")
            mode = f"{type(broker).__name__} (in-process worker), {args.threads} threads"

        def workers_start() -> None:
            nonlocal worker, stop
            if args.redis:
                stop = spawn.Event()
                ready = spawn.Semaphore(0)
                for _ in range(args.processes):
                    process = spawn.Process(target=worker_main, args=(args.redis, namespace, args.threads, ready, stop))
                    process.start()
                    processes.append(process)
                for _ in range(args.processes):
                    ready.acquire(timeout=60)
            elif worker is None:
                worker = dramatiq.Worker(broker, worker_threads=args.threads, worker_timeout=50)
                worker.start()
            else:
                worker.resume()

        def workers_stop() -> None:
            if worker is not None:
                worker.pause()
            stop.set()
            for process in processes:
                process.join(10)
            processes.clear()

        pool = urllib3.PoolManager(maxsize=4)
        share, extra = divmod(args.events, args.producers)
        per_producer = [share + (i < extra) for i in range(args.producers)]
        interval = args.producers / args.rate if args.rate else 0.0

        def phase(*, backlog: bool) -> dict:
            """Live: workers deliver while the producers commit. Backlog: every event is committed first."""
            pool.request("DELETE", f"{base_url}/stats")
            commit_times: dict[str, float] = {}

            def produce(count: int) -> None:
                next_at = time.monotonic()
                with schema_context(organization.schema_name):
                    for i in range(count):
                        if interval:
                            next_at += interval
                            time.sleep(max(0.0, next_at - time.monotonic()))
                        holder: dict[str, str] = {}

                        def stamp(holder=holder) -> None:
                            commit_times[holder["id"]] = time.time()

                        with transaction.atomic():
                            # Registered first, so it runs first at commit: before the job is queued.
                            transaction.on_commit(stamp)
                            event = event_record(type="lead.created", data={"lead": {"id": i, "name": f"Lead {i}"}})
                            holder["id"] = f"msg_{event.uid.hex}"
                close_old_connections()

            print(
                f"  {'backlog' if backlog else 'live'} phase: committing {args.events} events…",
                file=sys.stderr,
                flush=True,
            )
            if not backlog:
                workers_start()
            started = producing_since = time.time()
            producers = [threading.Thread(target=produce, args=(n,)) for n in per_producer]
            for thread in producers:
                thread.start()
            for thread in producers:
                thread.join()
            committed = time.time()
            if backlog:
                print("  backlog phase: workers started", file=sys.stderr, flush=True)
                started = time.time()  # deliveries per second from the moment the workers start
                workers_start()

            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                if json.loads(pool.request("GET", f"{base_url}/count").data)["verified"] >= args.events:
                    break
                time.sleep(0.1)
            stats = receiver_stats(pool, base_url)
            workers_stop()
            verified = {key: times for key, times in stats["verified"].items() if key in commit_times}
            with schema_context(organization.schema_name):
                mine = WebhookDelivery.objects.filter(webhook_id__in=list(commit_times))
                status_counts = {status: mine.filter(status=status).count() for status in DeliveryStatus.values}
                first_try = set(
                    mine.filter(status=DeliveryStatus.SUCCEEDED, attempt_count=1).values_list("webhook_id", flat=True)
                )
            last_verified = max((times[0] for times in verified.values()), default=started)
            lags_first, lags_all = [], []
            for webhook_id, committed_at in commit_times.items():
                times = verified.get(webhook_id)
                if times:
                    lag = (times[0] - committed_at) * 1000
                    lags_all.append(lag)
                    if webhook_id in first_try:
                        lags_first.append(lag)
            return {
                "rate": len(verified) / max(1e-9, last_verified - started),
                "lags_first": lags_first,
                "lags_all": lags_all,
                "lost": len(set(commit_times) - set(verified)),
                "duplicated": sum(len(times) - 1 for times in verified.values()),
                "stats": stats,
                "status_counts": status_counts,
                "produced_per_second": len(commit_times) / max(1e-9, committed - producing_since),
            }

        live = phase(backlog=False)
        backlog = phase(backlog=True)
        pool.request("DELETE", f"{base_url}/stats")
        baseline_rate, baseline_requests = baseline(pool, f"{base_url}/hook", bench_secret, args.events)

        print(f"outbox benchmark: {args.events} events, receiver answering 503 to {FAILURE_RATE:.0%} of requests")
        print(f"  load average (1 min) at start {load_at_start:.1f}, at the end {os.getloadavg()[0]:.1f}")
        print(f"  jobs: {mode}; {args.producers} producer threads, one transaction per event")
        for label, result in (("live (workers deliver while events are committed)", live),
                              ("backlog (all events committed, then the workers start)", backlog)):  # fmt: skip
            stats = result["stats"]
            print(f"  {label}")
            alone = "" if result is live else " (no worker running: the producers' own pace)"
            print(f"    producers committed        {result['produced_per_second']:8.0f} events/s{alone}")
            bound = "  (no more than the producers commit)" if result is live else "   (goal ≥ 500)"
            print(f"    verified deliveries/s      {result['rate']:8.0f}{bound}")
            if result is live:
                lags_first, lags_all = result["lags_first"], result["lags_all"]
                print(
                    f"    lag p50 / p99, first tries {percentile(lags_first, 50):6.0f} / "
                    f"{percentile(lags_first, 99):.0f} ms   ({len(lags_first)} deliveries; goal p99 ≤ 250 ms)"
                )
                print(
                    f"    lag p50 / p99, all         {percentile(lags_all, 50):6.0f} / "
                    f"{percentile(lags_all, 99):.0f} ms   (retries wait 1 s per step)"
                )
            print(
                f"    receiver requests          {stats['requests']:8d}   ({stats['rejected']} answered 503, "
                f"{stats['bad_signature']} bad signatures)"
            )
            print(
                f"    lost {result['lost']}, duplicated {result['duplicated']}; deliveries by status "
                f"{result['status_counts']}"
            )
        print(
            f"  baseline: plain HTTP loop  {baseline_rate:8.0f} verified/s ({baseline_requests} requests, one thread)"
        )
        print(f"  outbox / baseline          {backlog['rate'] / baseline_rate:8.2f}× (backlog), "
              f"{live['rate'] / baseline_rate:.2f}× (live)")  # fmt: skip
        p99_first = percentile(live["lags_first"], 99)
        lost = live["lost"] + backlog["lost"]
        goals = (
            ("≥ 500 verified deliveries/s (backlog: the outbox's own pace)", f"{backlog['rate']:.0f}/s",
             backlog["rate"] >= 500),
            ("first-try lag p99 ≤ 250 ms (live)", f"{p99_first:.0f} ms", p99_first <= 250),
            ("0 lost (both phases)", str(lost), lost == 0),
        )  # fmt: skip
        for goal, measured, met in goals:
            print(f"  goal: {goal:<58}{measured:>10}  {'met' if met else 'MISSED'}")
    finally:
        if worker is not None:
            worker.stop()
        stop.set()
        for process in processes:
            process.join(10)
        if args.redis and broker is not None:
            keys = list(broker.client.scan_iter(f"{namespace}*"))
            if keys:
                broker.client.delete(*keys)
        if receiver is not None:
            receiver.terminate()
            receiver.join(5)
        close_old_connections()
        organization.delete(force_drop=True)


if __name__ == "__main__":
    main()
