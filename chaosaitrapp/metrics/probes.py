"""Probes on AITRAPP's Prometheus metrics: leader, heartbeat ages, throttle queue, any metric,
and PromQL through a Prometheus server (``PROMETHEUS_URL``, via prometheus-api-client).

``/metrics`` is parsed with prometheus_client's parser; values are floats and compared
numerically (the original scripts compared ``"1.0"`` with ``"1"`` and failed). Every probe raises
MetricsError when ``/metrics`` cannot be read or parsed or the metric is missing (ApiError when the
API itself is unreachable or refuses the key); the waits raise ConditionTimeout at their deadline.
"""

import json
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import unquote, urlsplit, urlunsplit

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.api.metrics import HEARTBEATS, metric_value, parse_metrics
from chaosaitrapp.config import flag, secret, settings_from
from chaosaitrapp.errors import ConfigError, MetricsError
from chaosaitrapp.evidence.observe import QUEUE_LABELS, QUEUE_METRIC
from chaosaitrapp.evidence.recorder import current_run, dry_wait, wait_deadline
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.waiting import WaitResult, require, wait_until

__all__ = [
    "leader_status",
    "heartbeat_ages",
    "heartbeats_below",
    "throttle_queue_depth",
    "metric",
    "prometheus_query",
    "wait_leader",
    "wait_queue_depth_above",
    "wait_queue_drained",
]


def _samples(configuration: Configuration, secrets: Secrets):
    client = TraderClient.from_configuration(configuration, secrets)
    return parse_metrics(client.text("/metrics"), source=f"{client.base}/metrics")


def leader_status(configuration: Configuration = None, secrets: Secrets = None) -> float:
    """Returns ``trader_is_leader`` as a float: 1.0 leader, 0.0 not (the max over ``instance_id``
    labels; 999 when the lock was never taken). Raises MetricsError when the gauge is missing."""
    return metric_value(_samples(configuration, secrets), "trader_is_leader", aggregate="max")


def heartbeat_ages(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, float]:
    """Returns the three heartbeat ages in seconds, ``{"marketdata", "order_stream", "scan"}``. Raises
    MetricsError when one of the three gauges is missing."""
    samples = _samples(configuration, secrets)
    return {key: metric_value(samples, name, aggregate="max") for key, name in HEARTBEATS.items()}


def heartbeats_below(value: Dict[str, float] = None, limit: float = 0,
                     configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Returns True when every heartbeat age is below ``limit`` (0: ``HEARTBEAT_MAX``, default 5).

    Used as a probe tolerance on :func:`heartbeat_ages` (``value`` is its output; the tolerance needs
    no ``arguments``); called alone it reads the ages itself. Raises MetricsError when ``value`` is
    not a dict of ages.
    """
    bound = float(limit) if limit and float(limit) > 0 else settings_from(configuration).heartbeat_max
    ages = value if value is not None else heartbeat_ages(configuration, secrets)
    if not isinstance(ages, dict) or not ages:
        raise MetricsError(f"heartbeats_below: expected a dict of ages, got {ages!r}")
    return all(float(age) < bound for age in ages.values())


def throttle_queue_depth(configuration: Configuration = None, secrets: Secrets = None) -> float:
    """Returns ``trader_throttle_queue_depth{type="order_placement"}``: the orders waiting for the
    broker's rate limit. Raises MetricsError when the gauge is missing."""
    return metric_value(_samples(configuration, secrets), QUEUE_METRIC, QUEUE_LABELS, aggregate="sum")


def metric(name: str, labels: Dict[str, str] = None, aggregate: str = "single",
           configuration: Configuration = None, secrets: Secrets = None) -> float:
    """Returns any metric by sample name (``trader_kill_switch_total``...) and labels, as a float.

    ``aggregate``: ``single`` (exactly one sample must match), ``sum`` or ``max``. Raises ConfigError
    for an empty name, MetricsError when no sample (or, for ``single``, more than one) matches.
    """
    if not isinstance(name, str) or not name:
        raise ConfigError(f"metric name must be a non-empty string, got {name!r}")
    return metric_value(_samples(configuration, secrets), name, labels or {}, aggregate=aggregate)


def prometheus_query(query: str, configuration: Configuration = None, secrets: Secrets = None) -> List[Dict[str, Any]]:
    """Run PromQL ``query`` on the Prometheus at ``PROMETHEUS_URL`` (prometheus-api-client). TLS is
    verified unless ``PROMETHEUS_VERIFY_TLS`` is ``0``; a ``user:password@`` in the URL is sent as basic
    auth, the ``PROMETHEUS_TOKEN`` secret as a bearer token (neither is ever written out).

    Returns the result vector as ``[{"metric": {...}, "value": float}]``. Raises MetricsError when
    ``PROMETHEUS_URL`` is unset, Prometheus is unreachable, refuses the credentials or the query is invalid.
    """
    settings = settings_from(configuration)
    if not settings.prometheus_url:
        raise MetricsError("prometheus_query needs PROMETHEUS_URL (configuration 'prometheus_url')")
    from prometheus_api_client import PrometheusConnect  # noqa: PLC0415 - prometheus-api-client is an optional extra

    parts = urlsplit(settings.prometheus_url)
    auth = (unquote(parts.username or ""), unquote(parts.password or "")) if parts.password is not None else None
    url = urlunsplit(parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))) if auth \
        else settings.prometheus_url
    token = secret("prometheus_token", "PROMETHEUS_TOKEN", secrets)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    shown = scrub_text(url)
    try:
        prom = PrometheusConnect(url=url, headers=headers, auth=auth, timeout=settings.http_timeout,
                                 disable_ssl=not flag(configuration, "prometheus_verify_tls"))
        result = prom.custom_query(query=query)
    except Exception as exc:
        raise MetricsError(f"Prometheus at {shown}: query {query!r} failed: "
                           f"{type(exc).__name__}: {scrub_text(str(exc)[:200], [token or ''])}", query=query)
    out = []
    for item in result:
        raw = item.get("value", [None, "nan"])[1]
        out.append({"metric": item.get("metric", {}), "value": float(raw)})
    return out


def wait_leader(expected: int = 1, timeout: float = 0, interval: float = 0.1,
                configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``trader_is_leader`` equals ``expected`` (0 or 1), compared numerically, up to
    ``timeout`` seconds (0: ``DETECT_TIMEOUT`` for ``expected`` 0, the service noticing the fault;
    ``WAIT_READY_TIMEOUT`` for 1, its recovery).

    After Redis stops, leadership drops at the next lock refresh (up to the refresh period later), so
    this waits on the condition instead of reading once after a fixed delay. Returns the wait's record
    (``held``, ``waited_s``, ``held_at_wall``, ``value``...); raises ConfigError for an ``expected``
    other than 0/1, ConditionTimeout at the deadline.
    """
    if int(expected) not in (0, 1):
        raise ConfigError(f"wait_leader: expected must be 0 or 1, got {expected!r}")
    what = f"trader_is_leader == {int(expected)}"
    skipped = dry_wait(what)
    if skipped is not None:
        return skipped
    result = wait_until(lambda: leader_status(configuration, secrets), lambda v: v == float(expected),
                        timeout=wait_deadline(timeout, configuration, "detect" if int(expected) == 0 else "recover", what),
                        interval=interval, what=what)
    return require(result, f"trader_is_leader {float(expected)}").as_dict()


def _sampled_depth_above(threshold: float) -> Optional[Dict[str, Any]]:
    """The first sample of this run, since its last order burst began, whose queue depth is above
    ``threshold``; None without a run, a burst or such a sample."""
    run = current_run()
    if run is None:
        return None
    began = [float(e["wall"]) for e in run.events if e.get("event") == "fault" and e.get("target") == "orders"]
    if not began:
        return None
    try:
        lines = Path(run.sampler.path).read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line being written
        queue = record.get("queue") if record.get("kind") == "sample" else None
        if isinstance(queue, (int, float)) and float(record.get("wall", 0)) >= began[-1] and queue > threshold:
            return record
    return None


def wait_queue_depth_above(threshold: float = 0, timeout: float = 10, interval: float = 0.05,
                           configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the throttle queue depth exceeds ``threshold`` (the burst is being throttled), up to
    ``timeout`` seconds (default 10; 0: ``DETECT_TIMEOUT``). A depth above it that the run's sampler
    already read since the last order burst began counts at once (``seen_by: sampler``): a slow order
    source (an injector run per order) may end its burst after the queue has drained. Returns the wait's
    record; raises ConditionTimeout at the deadline."""
    what = f"throttle queue depth > {threshold}"
    skipped = dry_wait(what)
    if skipped is not None:
        return skipped
    seen = _sampled_depth_above(float(threshold))
    if seen is not None:
        held = WaitResult(True, what, 0.0, 0, seen["queue"], float(seen["wall"]), None, [])
        return {**held.as_dict(), "seen_by": "sampler"}
    result = wait_until(lambda: throttle_queue_depth(configuration, secrets), lambda d: d > float(threshold),
                        timeout=wait_deadline(timeout, configuration, "detect", what), interval=interval, what=what)
    return require(result, f"depth above {threshold}").as_dict()


def wait_queue_drained(timeout: float = 30, interval: float = 0.1,
                       configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the throttle queue depth is back to 0, up to ``timeout`` seconds (default 30, the
    seed's window; 0: ``WAIT_READY_TIMEOUT``). Returns the wait's record plus ``peak_seen``, the highest
    depth it saw; raises ConditionTimeout at the deadline."""
    skipped = dry_wait("throttle queue depth == 0")
    if skipped is not None:
        return skipped
    seen: List[float] = []

    def observe() -> float:
        depth = throttle_queue_depth(configuration, secrets)
        seen.append(depth)
        return depth

    what = "throttle queue depth == 0"
    result = require(wait_until(observe, lambda d: d == 0.0, timeout=wait_deadline(timeout, configuration, "recover", what),
                                interval=interval, what=what), "depth 0")
    out = result.as_dict()
    out["peak_seen"] = max(seen) if seen else None
    return out
