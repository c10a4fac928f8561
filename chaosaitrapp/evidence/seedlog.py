"""The seed's evidence log: ``reports/chaos/<drill>_<timestamp>.log`` in ``key,value`` lines.

The seed's fields first, in its order (``leader_before`` ... ``md_hb``, ``health``), then what
this suite measures on top (pause flags, detect/recover times, checks, reasons), and
``test_result,PASS|FAIL`` last.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

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
    """The seed's fields from the labelled snapshots (``unknown`` where one was not taken)."""
    fields: List[Tuple[str, str]] = []
    for label in SEED_LABELS:
        fields.append((f"leader_{label}", _fmt((snapshots.get(label) or {}).get("leader"))))
    for label in SEED_LABELS:
        fields.append((f"ready_{label}", _fmt(_ready_word(snapshots.get(label)))))
    last = snapshots.get("after_recovery") or (list(snapshots.values())[-1] if snapshots else {})
    fields += [("scan_hb", _fmt(last.get("scan_hb"))), ("order_hb", _fmt(last.get("order_hb"))),
               ("md_hb", _fmt(last.get("md_hb")))]
    during = snapshots.get("after_stop") or last
    fields.append(("health", _fmt(during.get("health"))))
    return fields


def extra_fields(snapshots: Dict[str, Dict[str, Any]]) -> List[Tuple[str, str]]:
    """Pause flags and queue depth per snapshot, and every non-seed snapshot's leader/ready."""
    fields: List[Tuple[str, str]] = []
    for label, snap in snapshots.items():
        fields.append((f"paused_{label}", _fmt(snap.get("paused"))))
        fields.append((f"queue_depth_{label}", _fmt(snap.get("queue"))))
        if label not in SEED_LABELS:
            fields.append((f"leader_{label}", _fmt(snap.get("leader"))))
            fields.append((f"ready_{label}", _fmt(_ready_word(snap))))
    return fields


def write_seed_log(path: Path, drill: str, stamp: str, fields: List[Tuple[str, str]], verdict: str) -> Path:
    """Write the log: header line, ``fields``, then ``test_result``."""
    lines = [f"{drill}_chaos_test,{stamp}"] + [f"{k},{v}" for k, v in fields] + [f"test_result,{verdict}"]
    path.write_text("\n".join(lines) + "\n")
    return path
