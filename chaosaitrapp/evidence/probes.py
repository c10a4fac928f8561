"""The seed's ``snapshot_metrics()`` as a probe: one labelled observation kept as evidence."""

from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient, reading_covers, reading_took_ms, take_reading
from chaosaitrapp.api.metrics import histogram, parse_metrics, select
from chaosaitrapp.errors import ConfigError, MetricsError
from chaosaitrapp.evidence.observe import OBSERVED_PATHS, observe
from chaosaitrapp.evidence.recorder import current_run, record_event, record_snapshot
from chaosaitrapp.scrub import scrub_text

__all__ = ["snapshot_metrics"]


def snapshot_metrics(label: str = "snapshot", configuration: Configuration = None,
                     secrets: Secrets = None) -> Dict[str, Any]:
    """Capture the target's state now under ``label`` (``before``, ``after_stop``, ``after_recovery``...):
    readiness, leader, pause flag, heartbeat ages, queue depth, health, and the raw ``/metrics``
    text (saved as ``<evidence>.metrics_<label>.prom`` when an evidence control runs).

    The reads come from this thread's current reading when it has them all (one taken after the last action
    and before anything newer was read: the steady state's, or the one taken before this probe), else from a
    reading taken now (:func:`chaosaitrapp.api.client.take_reading`); ``latency_ms`` is that reading's time.

    Never fails on what it sees (a dead endpoint is recorded as ``null`` with its error): it is a
    recorder; the checks judge. Returns the observation (``ready``, ``leader``, ``paused``, ``md_hb``,
    ``order_hb``, ``scan_hb``, ``queue``, ``health``, ``latency_ms``, ``error``); the timeline gets a
    ``snapshot`` event with its :func:`counters`. Raises ConfigError for a label that is not letters,
    digits and underscores.
    """
    if not isinstance(label, str) or not label.replace("_", "").isalnum():
        raise ConfigError(f"snapshot label must be letters, digits and underscores, got {label!r}")
    client = TraderClient.from_configuration(configuration, secrets)
    if not reading_covers(client, OBSERVED_PATHS):
        take_reading(client, OBSERVED_PATHS)
    took = reading_took_ms()
    snap = observe(client, keep_metrics_text=True, parallel=False)  # answered from the reading, at once
    snap["latency_ms"] = took
    text = snap.pop("metrics_text", None)
    run = current_run()
    if run is not None and text is not None:
        run.path(f".metrics_{label}.prom").write_text(scrub_text(text, run.secrets))
    record_snapshot(label, snap)
    record_event("snapshot", None, label, label=label, **counters(text))
    return snap


ORDER_LATENCY = "trader_order_latency_ms"


def counters(text: Any) -> Dict[str, Any]:
    """What a snapshot keeps on the timeline for the checks that compare two of them: the order-latency
    histogram (``order_latency``, :func:`chaosaitrapp.api.metrics.histogram`), ``leader_changes``
    (``trader_leader_changes_total``) and ``lock_lost`` (``trader_kill_switch_total{reason="leader_lock_lost"}``);
    None for each the text does not have (or when ``/metrics`` could not be read)."""
    out: Dict[str, Any] = {"order_latency": None, "leader_changes": None, "lock_lost": None}
    try:
        samples = parse_metrics(text) if isinstance(text, str) else []
    except MetricsError:
        return out
    out["order_latency"] = histogram(samples, ORDER_LATENCY)
    for key, name, labels in (("leader_changes", "trader_leader_changes_total", None),
                              ("lock_lost", "trader_kill_switch_total", {"reason": "leader_lock_lost"})):
        found = select(samples, name, labels)
        out[key] = sum(s.value for s in found) if found else None
    return out
