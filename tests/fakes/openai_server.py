"""A local OpenAI-compatible chat-completions server that streams SSE, for tests and benchmarks.

It records each request and answers according to `mode`: "ok" (stream `reply` in pieces),
"cut" (send some pieces, then drop the connection), "stall" (send nothing), "error" (HTTP 500),
with an optional delay before the first piece.
"""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

from tests.fakes.local_server import LocalServer


class FakeOpenAI(LocalServer):
    def __init__(
        self,
        reply: str = "Here is [1] for you.",
        *,
        mode: str = "ok",
        first_token_delay: float = 0.0,
        piece_delay: float = 0.0,
        pieces: int | None = None,
    ):
        self.reply = reply
        self.mode = mode
        self.first_token_delay = first_token_delay
        self.piece_delay = piece_delay
        self.pieces = pieces
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                if fake.mode == "error":
                    payload = json.dumps({"error": {"message": "boom", "type": "server_error"}}).encode()
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if fake.mode == "stall":
                    time.sleep(30)
                    return
                if fake.first_token_delay:
                    time.sleep(fake.first_token_delay)
                words = fake._pieces()
                for index, piece in enumerate(words):
                    if fake.mode == "cut" and index == max(1, len(words) // 2):
                        # Drop the connection mid-stream without the terminating chunk.
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                    self._chunk({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
                    if fake.piece_delay:
                        time.sleep(fake.piece_delay)
                self._chunk({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self._chunk(
                    {
                        "choices": [],
                        "usage": {
                            "prompt_tokens": 42,
                            "completion_tokens": len(words),
                            "total_tokens": 42 + len(words),
                        },
                    }
                )
                self._write(b"data: [DONE]\n\n")
                self._write(b"")

            def _chunk(self, data: dict) -> None:
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "fake",
                    **data,
                }
                self._write(f"data: {json.dumps(chunk)}\n\n".encode())

            def _write(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self._serve(Handler)

    def _pieces(self) -> list[str]:
        words = self.reply.split(" ")
        pieces = [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]
        return pieces[: self.pieces] if self.pieces else pieces

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"


class _ArrivalLog(list):
    """A request log that also appends each request's arrival time to a file, for another process to read."""

    def __init__(self, path: str):
        super().__init__()
        self.file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open while serving

    def append(self, item: dict) -> None:
        # perf_counter is CLOCK_MONOTONIC on Linux: the same clock in every process of the machine.
        self.file.write(f"{time.perf_counter():.6f}\n")
        super().append(item)


def main() -> None:
    """Serve from a process of its own: `python -m tests.fakes.openai_server --arrivals FILE [...]`.

    Prints its base URL, appends each request's arrival time to FILE, and stops when its standard
    input closes. In a benchmark's own process, its threads would share the GIL with the client being
    measured, and parse each request while that client still sends it.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--arrivals", required=True)
    parser.add_argument("--reply", default="Here is [1] for you.")
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--piece-delay", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeOpenAI(args.reply, first_token_delay=args.first_token_delay, piece_delay=args.piece_delay)
    fake.requests = _ArrivalLog(args.arrivals)
    with fake:
        print(fake.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
