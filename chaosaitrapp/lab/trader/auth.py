"""Optional API key: when ``API_SECRET_KEY`` is set, every endpoint but the open ones needs it.

The key comes in header ``X-API-Key`` or query ``?api_key=``; a missing or wrong key gets
401 ``{"detail": "Invalid or missing API Key"}``. Compared in constant time; never logged.
"""
from __future__ import annotations

import hmac
import json
from typing import Any, Awaitable, Callable, Dict
from urllib.parse import parse_qs

OPEN_PATHS = frozenset({"/health", "/metrics", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/"})
UNAUTHORIZED = json.dumps({"detail": "Invalid or missing API Key"}).encode()


class ApiKeyMiddleware:
    """Pure ASGI middleware checking the key on HTTP requests."""

    def __init__(self, app: Callable[..., Awaitable[Any]], key: str) -> None:
        self.app = app
        self._key = key.encode()

    def _presented(self, scope: Dict[str, Any]) -> bytes:
        for name, value in scope.get("headers", []):
            if name.lower() == b"x-api-key":
                return value
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        values = query.get("api_key")
        return values[0].encode() if values else b""

    async def __call__(self, scope: Dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("path", "") in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        if hmac.compare_digest(self._presented(scope), self._key):
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(UNAUTHORIZED)).encode())]})
        await send({"type": "http.response.body", "body": UNAUTHORIZED})
