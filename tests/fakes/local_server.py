"""The one way tests run a local HTTP stand-in: a threaded server on 127.0.0.1 (a free port) in a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    """Base of the fake third parties (OpenAI, Graph, Stripe, Postmark, a webhook receiver)."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    def _serve(self, handler: type[BaseHTTPRequestHandler], poll_interval: float = 0.02) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        # Handler threads must not keep a finished test's process alive.
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(poll_interval,), daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
