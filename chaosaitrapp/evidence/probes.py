"""The seed's ``snapshot_metrics()`` as a probe: one labelled observation kept as evidence."""

from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.observe import observe
from chaosaitrapp.evidence.recorder import current_run, record_snapshot
from chaosaitrapp.trader.client import TraderClient

__all__ = ["snapshot_metrics"]


def snapshot_metrics(label: str = "snapshot", configuration: Configuration = None,
                     secrets: Secrets = None) -> Dict[str, Any]:
    """Capture the target's state now under ``label`` (``before``, ``after_stop``, ``after_recovery``...):
    readiness, leader, pause flag, heartbeat ages, queue depth, health, and the raw ``/metrics``
    text (saved as ``<evidence>.metrics_<label>.prom`` when an evidence control runs).

    Never fails on what it sees (a dead endpoint is recorded as ``null`` with its error): it is a
    recorder; the checks judge. Returns the observation (``ready``, ``leader``, ``paused``, ``md_hb``,
    ``order_hb``, ``scan_hb``, ``queue``, ``health``, ``latency_ms``, ``error``); raises ConfigError for
    a label that is not letters, digits and underscores.
    """
    if not isinstance(label, str) or not label.replace("_", "").isalnum():
        raise ConfigError(f"snapshot label must be letters, digits and underscores, got {label!r}")
    client = TraderClient.from_configuration(configuration, secrets)
    snap = observe(client, keep_metrics_text=True)
    text = snap.pop("metrics_text", None)
    run = current_run()
    if run is not None and text is not None:
        from chaosaitrapp.scrub import scrub_text

        run.path(f".metrics_{label}.prom").write_text(scrub_text(text, run.secrets))
    record_snapshot(label, snap)
    return snap
