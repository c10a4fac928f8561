"""A transport-level fake of the AITRAPP API: a real HTTP server on loopback answering canned
responses, for probe error paths that the lab cannot produce on demand (malformed bodies)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Tuple, Union

Body = Union[str, dict, list]


class FakeApi:
    """Serves ``routes[(method, path)] = (status, body)``; records request headers."""

    def __init__(self, routes: Dict[Tuple[str, str], Tuple[int, Body]]) -> None:
        self.routes = routes
        self.seen = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method: str) -> None:
                path = self.path.split("?")[0]
                fake.seen.append((method, self.path, dict(self.headers)))
                status, body = fake.routes.get((method, path), (404, {"detail": "Not Found"}))
                data = body if isinstance(body, str) else json.dumps(body)
                raw = data.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self._answer("POST")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeApi":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
