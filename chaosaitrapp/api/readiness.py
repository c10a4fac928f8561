"""Interpret ``GET /ready`` in both forms the real service answers.

200 ``{"ok": true, "ready": true, "status": "ready", "leader": 1, ...}``; 503 with the same keys
(false / ``not_ready`` / ``heartbeat_max``) or, from an older build, wrapped as
``{"detail": "Readiness check error: 503: {...}"}``. ``leader`` 999 means the lock was never taken.
"""
from __future__ import annotations

import ast
import json
from typing import Any, Dict

from chaosaitrapp.errors import ApiError

LEADER_NEVER_TAKEN = 999


def _unwrap(body: Any) -> Dict[str, Any]:
    if isinstance(body, dict) and "status" not in body and isinstance(body.get("detail"), str):
        text = body["detail"]
        start = text.find("{")
        if start >= 0:
            inner = text[start:]
            for loader in (json.loads, ast.literal_eval):
                try:
                    value = loader(inner)
                except (ValueError, SyntaxError):
                    continue
                if isinstance(value, dict):
                    return value
        return {"status": "not_ready", "ready": False, "detail": text}
    if isinstance(body, dict) and isinstance(body.get("detail"), dict):
        return body["detail"]
    if not isinstance(body, dict):
        raise ApiError(f"/ready: expected a JSON object, got {type(body).__name__}: {str(body)[:80]!r}")
    return body


def interpret_ready(code: int, body: Any) -> Dict[str, Any]:
    """Normalise a /ready answer to ``{"code", "ready", "status", "leader", heartbeats...}``.

    ``ready`` is True only for HTTP 200 with a ready status; 503 is not ready; any other code is
    an :class:`ApiError` (the endpoint misbehaves).
    """
    if code not in (200, 503):
        raise ApiError(f"/ready: expected HTTP 200 or 503, got {code}", status=code)
    data = _unwrap(body)
    status = data.get("status")
    if status is None:
        status = "ready" if code == 200 else "not_ready"
    if status not in ("ready", "not_ready"):
        raise ApiError(f"/ready: unexpected status {status!r} (expected 'ready' or 'not_ready')")
    leader = data.get("leader")
    if leader is not None:
        try:
            leader = int(float(leader))
        except (TypeError, ValueError):
            raise ApiError(f"/ready: leader should be a number, got {leader!r}")
    out: Dict[str, Any] = {
        "code": code,
        "ready": code == 200 and status == "ready",
        "status": status if code == 200 else "not_ready",
        "leader": leader,
        "leader_never_taken": leader == LEADER_NEVER_TAKEN,
    }
    for key in ("marketdata_heartbeat", "order_stream_heartbeat", "scan_heartbeat", "heartbeat_max", "mode"):
        if key in data:
            out[key] = data[key]
    return out
