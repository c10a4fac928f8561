"""A transport-level fake of the AITRAPP API: a real HTTP server on loopback answering canned
responses, for probe error paths that the lab cannot produce on demand (malformed bodies).

It runs in a process of its own (a test that runs Chaos Toolkit in process would otherwise share the GIL
with it, and on a loaded runner its answers would come late enough to fail the drill's own sampling
checks); ``routes`` and ``seen`` are shared through a multiprocessing manager, so a test may change an
answer while a drill runs."""
from __future__ import annotations

import json
import multiprocessing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Tuple, Union

Body = Union[str, dict, list]


def _serve(routes: Any, seen: Any, ports: Any) -> None:
    """The server process: answer ``routes[(method, path)]``, record ``(method, path, headers)`` in ``seen``."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            path = self.path.split("?")[0]
            seen.append((method, self.path, dict(self.headers)))
            status, body = routes.get((method, path), (404, {"detail": "Not Found"}))
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

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ports.put(server.server_address[1])
    server.serve_forever()


class FakeApi:
    """Serves ``routes[(method, path)] = (status, body)``; records request headers in ``seen``."""

    def __init__(self, routes: Dict[Tuple[str, str], Tuple[int, Body]]) -> None:
        context = multiprocessing.get_context("spawn")
        self._manager = context.Manager()
        self.routes = self._manager.dict(routes)
        self.seen = self._manager.list()
        self._ports = context.Queue()
        self._process = context.Process(target=_serve, args=(self.routes, self.seen, self._ports), daemon=True)
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> "FakeApi":
        self._process.start()
        self._port = int(self._ports.get(timeout=30))  # the server's own port, once it listens
        return self

    def __exit__(self, *exc: Any) -> None:
        self._process.terminate()
        self._process.join(timeout=10)
        self._manager.shutdown()
