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
