"""The seed's evidence log: ``reports/chaos/<drill>_<timestamp>.log`` in ``key,value`` lines.

The seed's fields first, in its order (``leader_before`` ... ``md_hb``, ``health``), for the
snapshot labels the experiment took (a label it never used is left out, not written ``unknown``),
then what this suite measures on top (pause flags, checks and their figures, the sampling rate, the
strategies, notes, failure reasons), and ``test_result,PASS|FAIL|DRY|SKIP`` last. Which checks' figures are seconds, and which the log names plainly,
each fault family declares (:func:`chaosaitrapp.registry.seconds_checks`, :func:`chaosaitrapp.registry.figures`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp import registry

SEED_LABELS = ("before", "after_stop", "after_recovery")


def _fmt(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}"
    return str(value).replace("\n", " ").replace(",", ";")


def _ready_word(snapshot: Optional[Dict[str, Any]]) -> Optional[str]:
    if not snapshot or snapshot.get("ready") is None:
        return None
    return "ready" if snapshot["ready"] else "not_ready"


def seed_fields(snapshots: Dict[str, Dict[str, Any]]) -> List[Tuple[str, str]]:
    """The seed's fields from the labelled snapshots the experiment took (``unknown`` only for a
    value a snapshot could not read; labels never snapshotted are left out)."""
    fields: List[Tuple[str, str]] = []
    taken = [label for label in SEED_LABELS if label in snapshots]
    for label in taken:
        fields.append((f"leader_{label}", _fmt(snapshots[label].get("leader"))))
    for label in taken:
        fields.append((f"ready_{label}", _fmt(_ready_word(snapshots[label]))))
    if not snapshots:
        return fields
    last = snapshots.get("after_recovery") or list(snapshots.values())[-1]
    fields += [("scan_hb", _fmt(last.get("scan_hb"))), ("order_hb", _fmt(last.get("order_hb"))),
               ("md_hb", _fmt(last.get("md_hb")))]
    during = snapshots.get("after_stop") or last
    fields.append(("health", _fmt(during.get("health"))))
    return fields


#: Snapshot fields logged per label only when some snapshot read them (a target without market data
#: or token refreshes leaves them out instead of writing ``unknown`` everywhere).
OPTIONAL_FIELDS = (("md_connected", "md_connected"), ("token_refreshes", "token_refreshes"))


def extra_fields(snapshots: Dict[str, Dict[str, Any]]) -> List[Tuple[str, str]]:
    """Pause flags and queue depth per snapshot (and whether market data was connected and how many
    token refreshes the target had counted, when read), and every non-seed snapshot's leader/ready."""
    fields: List[Tuple[str, str]] = []
    optional = [(key, name) for key, name in OPTIONAL_FIELDS
                if any(snap.get(key) is not None for snap in snapshots.values())]
    for label, snap in snapshots.items():
        fields.append((f"paused_{label}", _fmt(snap.get("paused"))))
        fields.append((f"queue_depth_{label}", _fmt(snap.get("queue"))))
        for key, name in optional:
            fields.append((f"{name}_{label}", _fmt(snap.get(key))))
        if label not in SEED_LABELS:
            fields.append((f"leader_{label}", _fmt(snap.get("leader"))))
            fields.append((f"ready_{label}", _fmt(_ready_word(snap))))
    return fields


def write_seed_log(path: Path, drill: str, stamp: str, fields: List[Tuple[str, str]], verdict: str) -> Path:
    """Write the log: header line, ``fields``, then ``test_result``."""
    lines = [f"{drill}_chaos_test,{stamp}"] + [f"{k},{v}" for k, v in fields] + [f"test_result,{verdict}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def abort_summary(abort: Dict[str, Any]) -> str:
    """One phrase for what ``PAUSE_ON_FAIL`` did: ``done`` (pause, flatten, PAPER), ``skipped: <why>`` or
    ``failed: <error>``."""
    if "skipped" in abort:
        return f"skipped: {abort['skipped']}"
    if "error" in abort:
        return f"failed: {abort['error']}"
    return "done (pause, flatten, PAPER)"


def log_fields(run: Any, checks: List[Dict[str, Any]], sampling: Optional[Dict[str, Any]],
               reasons: List[str]) -> List[Tuple[str, str]]:
    """Every field of a run's log, in order: the seed's, the snapshots' extras, each check's status
    and figure, the sampling rate, the rollback strategy, notes, failure reasons."""
    fields = seed_fields(run.snapshots) + extra_fields(run.snapshots)
    seconds_checks, named_figures = registry.seconds_checks(), registry.figures()
    for check in checks:
        fields.append((f"check_{check['name']}", check["status"]))
        if check.get("value") is not None:
            seconds = check["name"].startswith(("time_to", "total_")) or check["name"] in seconds_checks
            unit = "_s" if seconds else "_value"
            fields.append((check["name"] + unit, f"{check['value']:.3f}"))
        named = named_figures.get(check["name"])
        if named and check.get("value") is not None:
            fields.append((named[0], f"{check['value']:.3f}"))
        if named and check.get("limit") is not None:
            fields.append((named[1], f"{check['limit']:.3f}"))
        for key, figure in (check.get("figures") or {}).items():
            fields.append((key, f"{figure:.3f}" if isinstance(figure, float) and not figure.is_integer()
                           else f"{figure:g}"))
    if sampling:
        fields += [("timeline_samples", str(sampling["samples"])), ("timeline_rate_hz", str(sampling["rate_hz"]))]
    if run.strategies:
        fields += [("rollback_strategy", run.strategies.get("rollbacks", "default")),
                   ("hypothesis_strategy", run.strategies.get("hypothesis", "default"))]
    if run.timing is not None:
        for name in ("lock_ttl", "lock_refresh", "lock_backoff_max", "ticker_max_delay"):
            figure = getattr(run.timing, name)
            fields.append((f"target_{name}_s", "unknown" if figure is None else f"{figure:g}"))
            if figure is not None:
                fields.append((f"target_{name}_source", _fmt(run.timing.sources.get(name, "?"))))
    fields.append(("faults_injected", str(run.faults)))
    if run.refused:
        fields.append(("refused", "true"))
    if run.abort is not None:
        fields.append(("abort", _fmt(abort_summary(run.abort))))
    fields += [("note", _fmt(note)) for note in run.notes]
    fields += [("failure_reason", _fmt(reason)) for reason in reasons]
    return fields
