"""One observation of the target: readiness, leader, pause flag, heartbeat ages, queue depth, health.

Used by the timeline sampler (many times a second) and by the ``snapshot_metrics`` probe
(at the seed's checkpoints). Each part that cannot be read is ``None`` with its error noted,
so one dead endpoint never hides the others.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.metrics.parse import HEARTBEATS, metric_value, parse_metrics
from chaosaitrapp.trader.client import TraderClient
from chaosaitrapp.trader.readiness import interpret_ready

QUEUE_METRIC = "trader_throttle_queue_depth"
QUEUE_LABELS = {"type": "order_placement"}


def observe(client: TraderClient, *, health: bool = True, keep_metrics_text: bool = False) -> Dict[str, Any]:
    """A flat observation dict (timeline sample fields, see docs/internals.md)."""
    began = time.perf_counter()
    errors = []
    sample: Dict[str, Any] = {"ready": None, "ready_code": None, "leader": None, "paused": None,
                              "md_hb": None, "order_hb": None, "scan_hb": None, "queue": None,
                              "health": None, "mode": None}
    try:
        code, body = client.json("GET", "/ready", expect=(200, 503))
        ready = interpret_ready(code, body)
        sample["ready"], sample["ready_code"] = ready["ready"], code
    except ChaosAitrappError as exc:
        errors.append(str(exc))
    try:
        _, state = client.json("GET", "/state")
        paused = state.get("is_paused") if isinstance(state, dict) else None
        sample["paused"] = paused if isinstance(paused, bool) else None
        sample["mode"] = state.get("mode") if isinstance(state, dict) else None
    except ChaosAitrappError as exc:
        errors.append(str(exc))
    try:
        text = client.text("/metrics")
        samples = parse_metrics(text)
        if keep_metrics_text:
            sample["metrics_text"] = text
        sample["leader"] = _maybe(samples, "trader_is_leader", None, "max", errors)
        for key, name in (("md_hb", HEARTBEATS["marketdata"]), ("order_hb", HEARTBEATS["order_stream"]),
                          ("scan_hb", HEARTBEATS["scan"])):
            sample[key] = _maybe(samples, name, None, "max", errors)
        sample["queue"] = _maybe(samples, QUEUE_METRIC, QUEUE_LABELS, "sum", errors)
    except ChaosAitrappError as exc:
        errors.append(str(exc))
    if health:
        try:
            _, body = client.json("GET", "/health")
            sample["health"] = body.get("status") if isinstance(body, dict) else None
        except ChaosAitrappError as exc:
            errors.append(str(exc))
    sample["latency_ms"] = round((time.perf_counter() - began) * 1000, 2)
    sample["error"] = "; ".join(errors) if errors else None
    return sample


def _maybe(samples, name: str, labels: Optional[dict], aggregate: str, errors: list) -> Optional[float]:
    try:
        return metric_value(samples, name, labels, aggregate=aggregate)
    except ChaosAitrappError as exc:
        errors.append(str(exc))
        return None
