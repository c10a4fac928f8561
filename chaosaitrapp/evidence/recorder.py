"""The current drill's evidence, shared by the controls, the actions and the probes.

Chaos Toolkit runs one experiment per process, so the run in progress is module state:
:func:`begin_run` (by the evidence control) creates it, actions report fault events with
:func:`record_event`, the ``snapshot_metrics`` probe adds labelled snapshots, and the control
turns it all into evidence at the end. Without a run (a probe used alone) these are no-ops.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

_LOCK = threading.Lock()
_CURRENT: Optional["Run"] = None


def stamp(when: Optional[float] = None) -> str:
    """The seed's timestamp format, ``2025-11-13T14-30-00`` (UTC)."""
    moment = datetime.fromtimestamp(when if when is not None else time.time(), tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H-%M-%S")


@dataclass
class Run:
    """One drill in progress: identity, evidence paths, snapshots, events and errors."""

    drill: str
    directory: Path
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    started_wall: float = field(default_factory=time.time)
    started_mono: float = field(default_factory=time.monotonic)
    snapshots: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    events: List[Dict[str, Any]] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    sampler: Any = None
    secrets: List[str] = field(default_factory=list)
    limits: Any = None
    preflight: List[str] = field(default_factory=list)

    @property
    def prefix(self) -> Path:
        """``reports/chaos/<drill>_<timestamp>``: every evidence file starts with it."""
        return self.directory / f"{self.drill}_{stamp(self.started_wall)}"

    def path(self, suffix: str) -> Path:
        """An evidence file path, e.g. ``path('.log')``."""
        return Path(str(self.prefix) + suffix)


def begin_run(drill: str, directory: Path, secrets: Optional[List[str]] = None) -> Run:
    """Start recording a drill (replacing any previous run in this process)."""
    global _CURRENT
    directory.mkdir(parents=True, exist_ok=True)
    run = Run(drill=drill, directory=directory, secrets=list(secrets or []))
    # keep file names unique when two drills start within the same second
    while run.path(".log").exists():
        run.started_wall += 1
    with _LOCK:
        _CURRENT = run
    return run


def current_run() -> Optional[Run]:
    """The run in progress, or None."""
    return _CURRENT


def end_run() -> Optional[Run]:
    """Forget the run in progress and return it."""
    global _CURRENT
    with _LOCK:
        run, _CURRENT = _CURRENT, None
    return run


def record_event(event: str, target: Optional[str] = None, detail: Optional[str] = None) -> None:
    """Note a fault/restore/phase event in the run and its timeline (no-op without a run)."""
    run = _CURRENT
    if run is None:
        return
    entry = {"kind": "event", "t": round(time.monotonic() - run.started_mono, 4), "wall": time.time(),
             "event": event, "target": target, "detail": detail}
    if run.sampler is not None:
        entry["t"] = round(time.monotonic() - run.sampler.started_mono, 4)
        run.sampler.write(entry)
    with _LOCK:
        run.events.append(entry)


def record_failure(reason: str) -> None:
    """Note that the drill failed (a steady state, a wait, a rollback), for ``abort_on_failure``."""
    run = _CURRENT
    if run is not None:
        with _LOCK:
            run.failures.append(reason)


def record_snapshot(label: str, snapshot: Dict[str, Any]) -> None:
    """Keep a labelled snapshot (``before``, ``after_stop``, ``after_recovery``...)."""
    run = _CURRENT
    if run is not None:
        with _LOCK:
            run.snapshots[label] = snapshot
