"""Browser-test fixtures: a seeded platform under a real daphne, a foreign site on another origin, Chromium.

The platform runs with local settings on its own embedded PostgreSQL folder (E2E_PGDATA, default
/tmp/e2e-pgdata) so the developer's database is untouched, and with every third party off
(no OpenAI key: the offline responder answers). Run with `make e2e`.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
PGDATA = os.environ.get("E2E_PGDATA", "/tmp/e2e-pgdata")  # noqa: S108 - a throwaway data folder of our own
DEMO_SLUG = "demo"


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser test against a real server (make e2e; not in make test)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def platform_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        EMBEDDED_PGDATA=PGDATA,
        JOBS_IN_PROCESS_AUTOSTART="true",
        # Empty rather than unset: .env must not fill them in (it never overrides the environment).
        DATABASE_URL="",
        REDIS_URL="",
        BROKER_URL="",
        OPENAI_API_KEY="",
        OPENAI_BASE_URL="",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=platform_env(), capture_output=True, text=True, timeout=600
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - localhost
            if response.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"daphne did not answer {url} within {timeout} s:\n{log.read_text()}")


@dataclass(frozen=True)
class Platform:
    url: str  # http://localhost:<port>
    slug: str


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    """init_platform + seed_demo on the e2e data folder, then daphne with in-process jobs."""
    ARTIFACTS.mkdir(exist_ok=True)
    manage("init_platform")
    manage("seed_demo")
    port = free_port()
    log = ARTIFACTS / "daphne.log"
    with open(log, "w") as handle:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("daphne")),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "asgi:application",
            ],
            cwd=ROOT,
            env=platform_env(),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, ended by id below
        )
    try:
        url = f"http://localhost:{port}"
        wait_until_up(f"{url}/healthz", process, log)
        yield Platform(url=url, slug=DEMO_SLUG)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # The embedded server outlives the processes that attached to it: stop it explicitly.
        subprocess.run(
            [sys.executable, "-m", "config.embedded_db", "stop"], cwd=ROOT, env=platform_env(), capture_output=True
        )


class TenantAPI:
    """The demo organization's REST API on its own host (`demo.localhost`), reached through 127.0.0.1."""

    def __init__(self, platform: Platform, key: str):
        self.port = platform.url.rsplit(":", 1)[1]
        self.host = f"{platform.slug}.localhost:{self.port}"
        self.key = key

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Host": self.host, "Authorization": f"Api-Key {self.key}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture(scope="session")
def tenant_api(platform) -> TenantAPI:
    key = manage("create_api_key", platform.slug, "--name", "e2e").strip().splitlines()[-1]
    return TenantAPI(platform, key)


SITE_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sunrise Homes, an agency's own site</title>
  <style>
    /* A hostile host page: none of this may reach the widget (shadow DOM). */
    * {{ font-family: "Courier New", monospace !important; color: rgb(255, 0, 0) !important; }}
    button, div, a, li, ul, p, span, textarea {{
      background: rgb(255, 255, 0) !important; border-radius: 0 !important;
    }}
    body {{ margin: 2rem; }}
  </style>
</head>
<body>
  <h1>Sunrise Homes</h1>
  <p>Homes for sale and rent. <a href="#contact">Contact us</a></p>
  <script src="{loader}" async></script>
</body>
</html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@dataclass(frozen=True)
class Site:
    url: str  # http://127.0.0.1:<port>/ : another origin than the platform's


@pytest.fixture(scope="session")
def site(platform, tmp_path_factory) -> Iterator[Site]:
    """A plain HTML page on 127.0.0.1:<port> that embeds the widget with the one script tag."""
    folder = tmp_path_factory.mktemp("agency-site")
    loader = f"{platform.url}/embed/{platform.slug}.js"
    (folder / "index.html").write_text(SITE_PAGE.format(loader=loader), encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(url=f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make e2e` installs Debian's chromium (never `playwright install`)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    yield context
    context.close()
