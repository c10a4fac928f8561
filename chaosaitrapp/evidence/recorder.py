"""The current drill's evidence, shared by the controls, the actions and the probes.

Chaos Toolkit runs one experiment per process, so the run in progress is module state. Whichever
of this extension's controls runs first begins it (:func:`ensure_run`), so the evidence does not
depend on the order the controls are declared in; actions report fault events with
:func:`record_event`, the ``snapshot_metrics`` probe adds labelled snapshots, and the evidence
control turns it all into evidence at the end. Without a run (a probe used alone) these are no-ops.
"""
from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set

from chaosaitrapp.config import deadline
from chaosaitrapp.paths import reports_dir

_LOCK = threading.Lock()
_CURRENT: Optional["Run"] = None

EVIDENCE_MODULE = "chaosaitrapp.controls.evidence"
SAFETY_MODULE = "chaosaitrapp.controls.safety"
_EXPERIMENT_SUFFIXES = (".json", ".yaml", ".yml")


def stamp(when: Optional[float] = None) -> str:
    """The seed's timestamp format, ``2025-11-13T14-30-00`` (UTC)."""
    moment = datetime.fromtimestamp(when if when is not None else time.time(), tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H-%M-%S")


@dataclass
class Run:
    """One drill in progress: identity, evidence paths, snapshots, events, errors and what the
    pre-flight said.

    ``recording`` is True when the evidence control is declared (someone will judge the run);
    ``preflight`` holds the pre-flight's refusals, ``not_applicable`` what the deployment lacks for the drill, ``notes`` what the verdict does not depend on
    but a reader must know (rollbacks off on interrupt, configuration keys nobody reads...),
    ``strategies`` Chaos Toolkit's effective rollback and hypothesis strategies; ``target`` the
    TraderClient of the drill's API, ``broker_proxy`` the control URL of the broker fault proxy once a
    broker fault was injected (its history becomes evidence), ``orders_sent`` True once the drill sent
    orders (what became of them becomes evidence), ``fault_kinds`` the kinds of fault its method injects
    (:func:`chaosaitrapp.controls.inference.faults_of`).

    What the run has done to the target so far: ``method_started`` (the method began), ``faults`` (how
    many ``fault`` events this extension's actions recorded), ``foreign_actions`` (the names of method actions of
    other extensions that ran: they may have injected something we cannot see). :attr:`injected` is False
    until one of them happened: then a refused or failed drill acts on nothing (no rollback, no abort).
    ``fail_deadline`` (monotonic) is set once the drill is decided FAIL during its method (fail fast):
    every later wait ends by it (:func:`wait_budget`). ``deployment``: what the deployment description did
    to the run's configuration (:class:`chaosaitrapp.deployment.description.Applied`; ``deployment_error``
    when it could not be used); ``timing``: the target's timing the drill is judged by
    (:class:`chaosaitrapp.deployment.timing.Timing`), known before the drill's first action (``timing_pending``
    waits for it while it is learned); ``control_arguments``: the evidence control's arguments.
    """

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
    checks: Optional[List[str]] = None
    preflight: List[str] = field(default_factory=list)
    not_applicable: List[str] = field(default_factory=list)
    preflight_done: bool = False
    notes: List[str] = field(default_factory=list)
    strategies: Dict[str, str] = field(default_factory=dict)
    recording: bool = False
    dry: bool = False
    target: Any = None
    broker_proxy: Optional[str] = None
    orders_sent: bool = False
    fault_kinds: List[str] = field(default_factory=list)
    method_started: bool = False
    faults: int = 0
    first_fault_mono: Optional[float] = None
    foreign_actions: Set[str] = field(default_factory=set)
    wait_ready_timeout: Optional[float] = None
    fail_deadline: Optional[float] = None
    abort: Optional[Dict[str, Any]] = None
    deployment: Any = None
    deployment_error: Optional[str] = None
    timing: Any = None
    timing_pending: Any = None
    control_arguments: Dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        """True when the pre-flight stopped the drill: a bad value, or a deployment it does not apply to."""
        return bool(self.preflight or self.not_applicable)

    @property
    def injected(self) -> bool:
        """True once something may have been done to the target: a fault of ours was recorded, or a
        method action of another extension ran."""
        return self.faults > 0 or bool(self.foreign_actions)

    @property
    def prefix(self) -> Path:
        """``reports/chaos/<drill>_<timestamp>``: every evidence file starts with it."""
        return self.directory / f"{self.drill}_{stamp(self.started_wall)}"

    def path(self, suffix: str) -> Path:
        """An evidence file path, e.g. ``path('.log')``."""
        return Path(str(self.prefix) + suffix)

    def note(self, text: str) -> None:
        """Keep ``text`` among the run's notes (once)."""
        if text not in self.notes:
            self.notes.append(text)


def control_arguments(experiment: Mapping[str, Any], module: str) -> Optional[Dict[str, Any]]:
    """The ``arguments`` of the control provided by ``module`` in ``experiment`` ({} when it has none),
    or None when the experiment does not declare that control."""
    for control in experiment.get("controls") or []:
        provider = control.get("provider") if isinstance(control, dict) else None
        if isinstance(provider, dict) and provider.get("module") == module:
            return dict(provider.get("arguments") or {})
    return None


def experiment_source(argv: Optional[List[str]] = None) -> Optional[Path]:
    """The experiment file ``chaos run`` was given (the last existing ``.json``/``.yaml`` argument), if any."""
    for arg in reversed(list(sys.argv if argv is None else argv)[1:]):
        if arg.endswith(_EXPERIMENT_SUFFIXES) and Path(arg).is_file():
            return Path(arg)
    return None


def drill_name(experiment: Mapping[str, Any], arguments: Optional[Mapping[str, Any]] = None) -> str:
    """The drill's name: the evidence control's ``drill`` argument, else the experiment file's name
    (``experiments/leader_lock.json`` -> ``leader_lock``), else the experiment's title as a slug."""
    given = (arguments or {}).get("drill")
    if isinstance(given, str) and given.strip():
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", given.strip())
    source = experiment_source()
    if source is not None:
        return re.sub(r"[^A-Za-z0-9_.-]+", "_", source.stem)
    title = str(experiment.get("title") or "drill").lower()
    return re.sub(r"[^a-z0-9]+", "_", title).strip("_")[:80] or "drill"


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


def ensure_run(experiment: Mapping[str, Any], secrets: Optional[List[str]] = None) -> Run:
    """The run in progress, begun now from ``experiment`` if none is (by whichever of our controls
    comes first): drill name and evidence folder from the evidence control's arguments."""
    run = _CURRENT
    if run is not None:
        return run
    arguments = control_arguments(experiment, EVIDENCE_MODULE)
    directory = Path((arguments or {}).get("reports_dir") or reports_dir())
    run = begin_run(drill_name(experiment, arguments), directory, secrets)
    run.recording = arguments is not None
    run.dry = bool(experiment.get("dry"))
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


def record_event(event: str, target: Optional[str] = None, detail: Optional[str] = None,
                 **extra: Any) -> None:
    """Note a fault/restore/phase event in the run and its timeline (no-op without a run); ``extra``
    fields (JSON values) are kept on the event."""
    run = _CURRENT
    if run is None:
        return
    now = time.monotonic()
    entry = {"kind": "event", "t": round(now - run.started_mono, 4), "wall": time.time(),
             "event": event, "target": target, "detail": detail, **extra}
    if event == "fault":
        with _LOCK:
            run.faults += 1
            if run.first_fault_mono is None:
                run.first_fault_mono = now
    if run.sampler is not None:
        entry["t"] = round(time.monotonic() - run.sampler.started_mono, 4)
        run.sampler.write(entry)
    with _LOCK:
        run.events.append(entry)


#: Fail fast: a drill decided FAIL ends within ``WAIT_READY_TIMEOUT`` + 30 s of its first fault (or of the
#: decision, when no fault was injected yet); its later waits share one deadline 5 s before that, which
#: leaves the restore, the steady state after and the evidence their time.
FAIL_FAST_GRACE_S = 30.0
FAIL_FAST_RESERVE_S = 5.0


def record_failure(reason: str) -> None:
    """Note that the drill failed (a steady state, a wait, a rollback), for ``abort_on_failure``; the
    first failure sets the run's fail-fast deadline (see :func:`wait_budget`)."""
    run = _CURRENT
    if run is None:
        return
    with _LOCK:
        run.failures.append(reason)
        if run.fail_deadline is None and run.wait_ready_timeout is not None:
            base = run.first_fault_mono if run.first_fault_mono is not None else time.monotonic()
            run.fail_deadline = base + run.wait_ready_timeout + FAIL_FAST_GRACE_S - FAIL_FAST_RESERVE_S


def wait_budget(seconds: float, what: str = "") -> float:
    """The seconds a wait may take: ``seconds``, or less once the drill is decided FAIL (fail fast: every
    later wait, the rollback's ready confirmation included, ends by one deadline, so that the drill ends
    within ``WAIT_READY_TIMEOUT`` + 30 s of its first fault); the cut is noted in the run's evidence."""
    run = _CURRENT
    if run is None or run.fail_deadline is None:
        return seconds
    left = max(0.0, run.fail_deadline - time.monotonic())
    if left >= seconds:
        return seconds
    run.note(f"fail fast: the drill had already failed ({run.failures[0]}), so its later waits ended by one "
             f"deadline: it ends within WAIT_READY_TIMEOUT + {FAIL_FAST_GRACE_S:.0f} s of its first fault")
    if what:
        run.note(f"fail fast: the wait for {what} was cut from {seconds:.1f} s to {left:.1f} s")
    return left


def record_snapshot(label: str, snapshot: Dict[str, Any]) -> None:
    """Keep a labelled snapshot (``before``, ``after_stop``, ``after_recovery``...)."""
    run = _CURRENT
    if run is not None:
        with _LOCK:
            run.snapshots[label] = snapshot


def wait_deadline(timeout: Any, configuration: Optional[Mapping[str, Any]], kind: str, what: str = "") -> float:
    """A ``wait_*`` activity's deadline in seconds: :func:`chaosaitrapp.config.deadline` (``timeout``, else
    the configured deadline of ``kind``), cut short by :func:`wait_budget` once the drill has failed."""
    return wait_budget(deadline(timeout, configuration, kind), what)


def dry_wait(what: str) -> Optional[Dict[str, Any]]:
    """In a dry run, the record a ``wait_*`` returns without waiting (nothing was injected, so the
    state it waits for cannot come); None otherwise."""
    run = _CURRENT
    if run is None or not run.dry:
        return None
    return {"held": None, "what": what, "waited_s": 0.0, "polls": 0, "value": None, "dry": True,
            "why": "dry run: nothing was injected, the wait was skipped"}
