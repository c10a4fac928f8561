"""One observation of the target: readiness, leader, pause flag, heartbeat ages, queue depth, health,
whether market data is connected (``/state`` ``marketdata_connected``) and how many broker token
refreshes it has counted (``trader_retries_total{type="token_refresh"}``; 0 while the counter family
exists without that label, None when the target has no such family).

Four reads (``/ready``, ``/state``, ``/metrics``, ``/health``), each its own function so that the
``snapshot_metrics`` probe can take them one after the other (:func:`observe`) and the timeline
sampler all at once (:class:`ParallelObserver`: a target that answers in 100 ms still gives a
sample every 100 ms, not every 400). Each part that cannot be read is ``None`` with its error
noted, so one dead endpoint never hides the others. A sample records how long its reads took
(``latency_ms``: first request sent to last answer read) and how far apart its answers were read
(``skew_ms``): its fields describe the target over that window, not at one instant.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.api.metrics import HEARTBEATS, Sample, metric_value, parse_metrics, select
from chaosaitrapp.api.readiness import interpret_ready
from chaosaitrapp.errors import ChaosAitrappError

QUEUE_METRIC = "trader_throttle_queue_depth"
QUEUE_LABELS = {"type": "order_placement"}
RETRIES_METRIC = "trader_retries_total"
TOKEN_REFRESH_LABELS = {"type": "token_refresh"}
FIELDS = ("ready", "ready_code", "leader", "paused", "md_hb", "order_hb", "scan_hb", "queue", "health", "mode",
          "md_connected", "token_refreshes")

Part = Callable[[TraderClient, Dict[str, Any], List[str]], None]


def _read_ready(client: TraderClient, sample: Dict[str, Any], errors: List[str]) -> None:
    code, body = client.json("GET", "/ready", expect=(200, 503))
    ready = interpret_ready(code, body)
    sample["ready"], sample["ready_code"] = ready["ready"], code


def _read_state(client: TraderClient, sample: Dict[str, Any], errors: List[str]) -> None:
    _, state = client.json("GET", "/state")
    paused = state.get("is_paused") if isinstance(state, dict) else None
    sample["paused"] = paused if isinstance(paused, bool) else None
    sample["mode"] = state.get("mode") if isinstance(state, dict) else None
    connected = state.get("marketdata_connected") if isinstance(state, dict) else None
    sample["md_connected"] = connected if isinstance(connected, bool) else None


def _read_metrics(client: TraderClient, sample: Dict[str, Any], errors: List[str]) -> None:
    text = client.text("/metrics")
    samples = parse_metrics(text)
    sample["metrics_text"] = text
    sample["leader"] = _maybe(samples, "trader_is_leader", None, "max", errors)
    for key, name in (("md_hb", HEARTBEATS["marketdata"]), ("order_hb", HEARTBEATS["order_stream"]),
                      ("scan_hb", HEARTBEATS["scan"])):
        sample[key] = _maybe(samples, name, None, "max", errors)
    sample["queue"] = _maybe(samples, QUEUE_METRIC, QUEUE_LABELS, "sum", errors)
    sample["token_refreshes"] = token_refreshes(samples)


def token_refreshes(samples: List[Sample]) -> Optional[float]:
    """``trader_retries_total{type="token_refresh"}`` summed; 0.0 when the family is there without
    that label (nothing refreshed yet), None when the target has no ``trader_retries_total`` at all."""
    if not any(s.name == RETRIES_METRIC for s in samples):
        return None
    return float(sum(s.value for s in select(samples, RETRIES_METRIC, TOKEN_REFRESH_LABELS)))


def _read_health(client: TraderClient, sample: Dict[str, Any], errors: List[str]) -> None:
    _, body = client.json("GET", "/health")
    sample["health"] = body.get("status") if isinstance(body, dict) else None


PARTS: Tuple[Part, ...] = (_read_ready, _read_state, _read_metrics, _read_health)
#: The API paths :data:`PARTS` read, one GET each (what a reading for them holds:
#: :func:`chaosaitrapp.api.client.take_reading`).
OBSERVED_PATHS: Tuple[str, ...] = ("/ready", "/state", "/metrics", "/health")
#: The reads whose own duration a sample keeps (``ready_ms``, ``health_ms``: a timed-out read counts
#: its whole wait), for the latency percentiles of the stress drills.
TIMED_PARTS: Dict[Part, str] = {_read_ready: "ready_ms", _read_health: "health_ms"}


def _run_part(part: Part, client: TraderClient) -> Tuple[Dict[str, Any], List[str], float, float]:
    """One read: ``(fields, errors, started, ended)`` (perf_counter seconds)."""
    sample: Dict[str, Any] = {}
    errors: List[str] = []
    started = time.perf_counter()
    try:
        part(client, sample, errors)
    except ChaosAitrappError as exc:
        errors.append(str(exc))
    ended = time.perf_counter()
    if part in TIMED_PARTS:
        sample[TIMED_PARTS[part]] = round((ended - started) * 1000, 2)
    return sample, errors, started, ended


def _assemble(results: List[Tuple[Dict[str, Any], List[str], float, float]], keep_metrics_text: bool) -> Dict[str, Any]:
    sample: Dict[str, Any] = {name: None for name in FIELDS}
    errors: List[str] = []
    for fields, part_errors, _, _ in results:
        sample.update(fields)
        errors.extend(part_errors)
    if not keep_metrics_text:
        sample.pop("metrics_text", None)
    first = min(r[2] for r in results)
    ends = [r[3] for r in results]
    sample["latency_ms"] = round((max(ends) - first) * 1000, 2)
    sample["skew_ms"] = round((max(ends) - min(ends)) * 1000, 2)
    sample["error"] = "; ".join(errors) if errors else None
    return sample


def observe(client: TraderClient, *, health: bool = True, keep_metrics_text: bool = False,
            parallel: bool = True) -> Dict[str, Any]:
    """A flat observation dict (timeline sample fields, docs/internals.md): the reads at once, each in a
    thread of its own with its own HTTP session (in the time of the slowest answer), or one after the
    other when ``parallel`` is False."""
    parts = PARTS if health else PARTS[:-1]
    if not parallel:
        return _assemble([_run_part(part, client) for part in parts], keep_metrics_text)
    twins = [client.fork() for _ in parts]
    try:
        with ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="aitrapp-observe") as pool:
            results = list(pool.map(_run_part, parts, twins))
    finally:
        for twin in twins:
            twin.session.close()
    return _assemble(results, keep_metrics_text)


def _replica_part(name: str) -> Part:
    """A read of one other replica's ``trader_is_leader`` (its client is the one the part is given)."""
    def read(client: TraderClient, sample: Dict[str, Any], errors: List[str]) -> None:
        try:
            value = metric_value(parse_metrics(client.text("/metrics")), "trader_is_leader", None, aggregate="max")
        except ChaosAitrappError:
            value = None  # a frozen or cut-off replica answers nothing: not an error of the sample's target
        sample.setdefault("replica_leaders", {})[name] = value
    return read


class ParallelObserver:
    """The sampler's observer: the four reads of a sample in parallel, each thread with its own HTTP
    session (``requests.Session`` is not thread-safe); several samples may be in flight at once.
    ``timeout`` bounds every read (short: a slow answer must show as a late sample, not a hole).
    ``replicas`` (``(name, api)`` of the target's other replicas, for the split-brain drills) adds one
    read of each one's leader gauge: the sample's ``replica_leaders`` ``{name: value}``, the sampled
    replica's own (``name``) included; None for a replica that did not answer. ``extra`` parts run
    beside the reads (the target process's resources, for the stress drills:
    :func:`chaosaitrapp.stress.probes.process_part`)."""

    def __init__(self, client: TraderClient, *, timeout: float = 0.5, max_in_flight: int = 4,
                 replicas: Sequence[Tuple[str, str]] = (), name: str = "r0", extra: Sequence[Part] = ()) -> None:
        self.client = client.fork(http_timeout=min(timeout, client.settings.http_timeout))
        self.replicas = list(replicas)
        self.name = name
        self._parts: List[Tuple[Part, Optional[str]]] = [(part, None) for part in PARTS]
        self._parts += [(_replica_part(name), api) for name, api in self.replicas]
        self._parts += [(part, None) for part in extra]
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(max_workers=len(self._parts) * max_in_flight,
                                        thread_name_prefix="aitrapp-read")

    def _client(self, api: Optional[str]) -> TraderClient:
        clients: Dict[Optional[str], TraderClient] = self._local.__dict__.setdefault("clients", {})
        if api not in clients:
            # another replica's gauge waits at most 0.25 s: a frozen one must not slow every sample down
            clients[api] = self.client.fork() if api is None else self.client.fork(
                api=api, http_timeout=min(0.25, self.client.settings.http_timeout))
        return clients[api]

    def _part(self, part: Part, api: Optional[str]) -> Tuple[Dict[str, Any], List[str], float, float]:
        return _run_part(part, self._client(api))

    def __call__(self) -> Dict[str, Any]:
        futures = [self._pool.submit(self._part, part, api) for part, api in self._parts]
        results = [f.result() for f in futures]
        leaders: Dict[str, Any] = {}
        for fields, _, _, _ in results:
            leaders.update(fields.pop("replica_leaders", {}))
        sample = _assemble(results, keep_metrics_text=False)
        if self.replicas:
            sample["replica_leaders"] = {self.name: sample.get("leader"), **leaders}
        return sample

    def close(self) -> None:
        """Let the read threads go."""
        self._pool.shutdown(wait=True)


def _maybe(samples, name: str, labels: Optional[dict], aggregate: str, errors: list) -> Optional[float]:
    try:
        return metric_value(samples, name, labels, aggregate=aggregate)
    except ChaosAitrappError as exc:
        errors.append(str(exc))
        return None
