"""Benchmark: chat time to first token via daphne + websocket vs. the direct OpenAI client; RSS per idle socket."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from _setup import ROOT, django_setup, median, percentile

django_setup()
logging.getLogger("httpx2").setLevel(logging.WARNING)  # the SDK logs each request at INFO

import openai  # noqa: E402
import psutil  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_tenants.utils import tenant_context  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.properties.services import SAMPLE_CATALOG, property_embeddings_sync, property_import  # noqa: E402
from apps.tenants.models import Organization  # noqa: E402
from apps.tenants.services import organization_create  # noqa: E402

FIRST_TOKEN_DELAY = 0.3
PIECE_DELAY = 0.002
REPLY = (
    "Here is [1] for you: a bright two-bedroom apartment in Austin near the park, with a balcony "
    "and parking. [2] is a larger option nearby. Would you like to visit one of them?"
)
# Turns take these in turn: filters understood from the words, plain descriptions, a typo.
QUESTIONS = [
    "Do you have a 2 bedroom apartment in Austin?",
    "3 bed house in Austin under $500k with a pool",
    "something quiet near a park for my family",
    "condo with ocean views and a balcny",
]
CATALOG_SIZE = len(json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8")))
GOALS = {"p50": 5.0, "p99": 20.0, "kib": 100.0}
TURN_TIMEOUT = 15.0
RUN_TIMEOUT = 900.0


class FakeModel:
    """The fake OpenAI-compatible server (tests/fakes/openai_server.py) in a process of its own, as a model is.

    In this process, its threads would parse each request while the direct client, being measured,
    still sends it: they share the GIL, and the baseline would pay for the fake's work.
    """

    def __init__(self, arrivals: str):
        self.arrivals = arrivals
        self.proc: subprocess.Popen | None = None
        self.base_url = ""

    def __enter__(self) -> FakeModel:
        cmd = [
            sys.executable, "-m", "tests.fakes.openai_server", "--arrivals", self.arrivals, "--reply", REPLY,
            "--first-token-delay", str(FIRST_TOKEN_DELAY), "--piece-delay", str(PIECE_DELAY),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url:
            raise RuntimeError("the fake model did not start")
        return self

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()  # it stops when its input closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def arrived(self) -> list[float]:
        """When each request so far had fully arrived (perf_counter: one clock for all processes on Linux)."""
        with open(self.arrivals, encoding="utf-8") as file:
            return [float(line) for line in file if line.strip()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def raise_fd_limit(wanted: int) -> None:
    # 2,000 client sockets here and 2,000 server sockets in daphne; daphne inherits this limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(max(soft, wanted), hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def scratch_organization() -> Organization:
    """An agency with the demo's sample catalog (252 listings in several cities), embedded, as seed_demo makes it."""
    slug = f"bench-chat-{uuid.uuid4().hex[:8]}"
    # The agency plan allows 50,000 AI replies a month: a run's few hundred turns never hit plan_limit.
    organization = organization_create(slug=slug, name="Bench Realty", owner_email=f"owner@{slug}.test", plan="agency")
    rows = json.loads(SAMPLE_CATALOG.read_text(encoding="utf-8"))
    with tenant_context(organization):
        result = property_import(rows=rows)
        # No job worker runs here: embed now so the vector ranker has something to rank, as in production.
        property_embeddings_sync(property_ids=result.property_ids)
        with connection.cursor() as cursor:
            # The planner's statistics, which autovacuum gathers within a minute of such an import.
            cursor.execute("ANALYZE properties_property, properties_propertyembedding, properties_searchword")
    return organization


def scratch_drop(organization: Organization) -> None:
    owner_email = f"owner@{organization.slug}.test"
    Organization.objects.get(pk=organization.pk).delete(force_drop=True)
    User.objects.filter(email=owner_email, memberships__isnull=True).delete()


def daphne_start(port: int, fake_url: str, log) -> subprocess.Popen:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        # As deployed: local settings default to DEBUG, whose bookkeeping of every query cost ~0.9 ms a turn.
        DJANGO_DEBUG="false",
        OPENAI_API_KEY="sk-bench",
        OPENAI_BASE_URL=fake_url,
        JOBS_IN_PROCESS_AUTOSTART="false",
        # One socket sends 50+ messages a minute and all ~110 come from 127.0.0.1: the defaults (20/m per
        # visitor, 120/m per IP) would answer rate_limited, and the limiter is not what is measured here.
        CHAT_RATE_LIMIT_VISITOR="100000/m",
        CHAT_RATE_LIMIT_IP="100000/m",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    # Same database settings as this process: DATABASE_URL / EMBEDDED_PGDATA are inherited from os.environ.
    cmd = [str(ROOT / ".venv/bin/daphne"), "-v", "0", "-b", "127.0.0.1", "-p", str(port), "asgi:application"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)


def daphne_wait(proc: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise RuntimeError("daphne did not listen within 60 s")


def daphne_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Relay:
    """Client side of both measures; each timed turn gives (ms to first token, ms until the model got the request)."""

    def __init__(self, url: str, fake: FakeModel):
        self.url = url
        self.fake = fake
        self.client = openai.AsyncOpenAI(
            base_url=fake.base_url, api_key="sk-bench", max_retries=0, timeout=openai.Timeout(30.0, connect=5.0)
        )

    def _arrived_after(self, index: int, started: float) -> float:
        return (self.fake.arrived()[index] - started) * 1000

    async def direct(self, question: str) -> tuple[float, float]:
        """The baseline: the SDK call the app makes, made from here, also reading to the end of the stream."""
        index = len(self.fake.arrived())
        ttft = None
        started = time.perf_counter()
        stream = await self.client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": question}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for chunk in stream:
            if ttft is None and chunk.choices and chunk.choices[0].delta.content:
                ttft = (time.perf_counter() - started) * 1000
        return ttft, self._arrived_after(index, started)

    async def open(self):
        # proxy=None: 127.0.0.1 only, whatever the environment says; no client pings, daphne pings idle sockets.
        ws = await connect(self.url, proxy=None, ping_interval=None, open_timeout=30, close_timeout=2)
        frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if frame.get("type") != "conversation":
            await ws.close()
            raise RuntimeError(f"expected a conversation frame, got {frame}")
        return ws

    async def turn(self, ws, question: str) -> tuple[float, float]:
        """From sending the message to the first `delta` frame; reads on to `done` before the next turn."""
        index = len(self.fake.arrived())
        ttft = None
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "text": question}))
        async with asyncio.timeout(TURN_TIMEOUT):
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "delta" and ttft is None:
                    ttft = (time.perf_counter() - started) * 1000
                elif frame["type"] == "done":
                    return ttft, self._arrived_after(index, started)
                elif frame["type"] == "error":
                    raise RuntimeError(f"error frame: {frame}")

    async def fresh_turn(self, question: str) -> tuple[float, float]:
        ws = await self.open()
        try:
            return await self.turn(ws, question)
        finally:
            await ws.close()

    async def latency(self, turns: int) -> dict[str, list[tuple[float, float]]]:
        results = {"direct": [], "same": [], "fresh": []}
        same = await self.open()
        try:
            # Warm-up: lazy imports, the app's OpenAI client and pooled connection, the DB connection and
            # its prepared statements (each question once per way).
            for question in QUESTIONS:
                await self.direct(question)
                await self.turn(same, question)
                await self.fresh_turn(question)
            # Interleaved, so drift (GC, checkpoints, other load on the machine) affects the three alike.
            for n in range(turns):
                question = QUESTIONS[n % len(QUESTIONS)]
                results["direct"].append(await self.direct(question))
                results["same"].append(await self.turn(same, question))
                results["fresh"].append(await self.fresh_turn(question))
        finally:
            await same.close()
        return results

    async def idle_memory(self, pid: int, sockets: int, concurrency: int) -> dict:
        process = psutil.Process(pid)
        await asyncio.sleep(0.5)
        # After the latency phase: the process has imported and warmed everything a socket touches.
        before = process.memory_info().rss
        gate = asyncio.Semaphore(concurrency)
        opened = []

        async def one():
            async with gate:
                opened.append(await self.open())

        started = time.perf_counter()
        try:
            await asyncio.gather(*(one() for _ in range(sockets)))
            elapsed = time.perf_counter() - started
            await asyncio.sleep(1.0)  # let daphne settle its per-connection bookkeeping
            after = process.memory_info().rss
            fds = process.num_fds()
        finally:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await asyncio.gather(*(ws.close() for ws in opened), return_exceptions=True)
        return {"open": len(opened), "seconds": elapsed, "before": before, "after": after, "fds": fds}


def report(args, lat: dict[str, list[tuple[float, float]]], mem: dict) -> None:
    ttft = {key: [t for t, _ in values] for key, values in lat.items()}
    to_model = {key: [a for _, a in values] for key, values in lat.items()}
    labels = {
        "direct": "direct AsyncOpenAI (baseline)",
        "same": "websocket, same socket",
        "fresh": "websocket, new socket",
    }
    print(
        f"Chat relay: {args.turns} interleaved turns each way, fake OpenAI {FIRST_TOKEN_DELAY * 1000:.0f} ms to "
        f"first token (its own process), one daphne process (DEBUG off), 127.0.0.1 only;\n"
        f"  the demo's catalog ({CATALOG_SIZE} listings), {len(QUESTIONS)} visitor questions in turn"
    )
    print(f"  {'time to first token':<36}{'p50':>9}{'p99':>10}   send -> request at the model, p50")
    for key, label in labels.items():
        print(
            f"  {label:<36}{median(ttft[key]):7.1f}ms{percentile(ttft[key], 99):8.1f}ms"
            f"   {median(to_model[key]):6.1f} ms"
        )
    added = {
        key: (median(ttft[key]) - median(ttft["direct"]), percentile(ttft[key], 99) - percentile(ttft["direct"], 99))
        for key in ("same", "fresh")
    }
    for key in ("same", "fresh"):
        before_model = median(to_model[key]) - median(to_model["direct"])
        print(
            f"  {'added, ' + labels[key][11:]:<36}{added[key][0]:+7.1f}ms{added[key][1]:+8.1f}ms"
            f"   {before_model:+6.1f} ms of it before the model is asked"
        )
    kib = (mem["after"] - mem["before"]) / 1024 / mem["open"]
    print(
        f"  idle sockets: {mem['open']} opened in {mem['seconds']:.1f} s ({args.concurrency} at a time); daphne RSS "
        f"{mem['before'] / 2**20:.1f} -> {mem['after'] / 2**20:.1f} MiB, {mem['fds']} fds"
    )
    print("  (each socket created a Conversation row, as a visitor's socket does: in the open time, not in RSS)")
    rows = []
    for q, index in (("p50", 0), ("p99", 1)):
        for key in ("same", "fresh"):
            label = f"added TTFT {q} <= {GOALS[q]:.0f} ms, {labels[key][11:]}"
            rows.append((label, added[key][index], GOALS[q], "ms"))
    rows.append((f"RSS per idle socket <= {GOALS['kib']:.0f} KiB", kib, GOALS["kib"], "KiB"))
    print(f"  {'goal':<46}{'measured':>12}  result")
    for label, value, goal, unit in rows:
        print(f"  {label:<46}{value:>8.1f} {unit:<3}  {'met' if value <= goal else 'MISSED'}")
    if args.turns < 100:
        print(f"  (p99 of {args.turns} samples is about the maximum; --turns 200 gives a steadier tail)")


async def measure(args, url: str, fake: FakeModel, pid: int):
    relay = Relay(url, fake)
    try:
        async with asyncio.timeout(RUN_TIMEOUT):
            lat = await relay.latency(args.turns)
            mem = await relay.idle_memory(pid, args.sockets, args.concurrency)
    finally:
        await relay.client.close()
    return lat, mem


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=50, help="timed turns per way")
    parser.add_argument("--sockets", type=int, default=2000, help="idle sockets for the memory measure")
    parser.add_argument("--concurrency", type=int, default=50, help="sockets being opened at once")
    args = parser.parse_args()
    # The SDK's HTTP client honours proxy variables; the fake server must be reached directly.
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    raise_fd_limit(args.sockets * 2 + 1024)
    call_command("init_platform", verbosity=0)

    organization = scratch_organization()
    try:
        with (
            tempfile.NamedTemporaryFile("w+", suffix=".arrivals") as arrivals,
            FakeModel(arrivals.name) as fake,
            tempfile.TemporaryFile("w+") as log,
        ):
            port = free_port()
            daphne = daphne_start(port, fake.base_url, log)
            try:
                daphne_wait(daphne, port)
                url = f"ws://127.0.0.1:{port}/ws/chat/{organization.slug}/"
                lat, mem = asyncio.run(measure(args, url, fake, daphne.pid))
            except Exception:
                log.seek(0)
                sys.stderr.write("daphne's log (tail):\n" + log.read()[-4000:])
                raise
            finally:
                daphne_stop(daphne)
    finally:
        scratch_drop(organization)
    report(args, lat, mem)


if __name__ == "__main__":
    main()
