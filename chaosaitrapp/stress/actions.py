"""CPU and memory stress on the target: ``stress-ng`` beside it on the host, or inside its own cgroup.

- :func:`stress_cpu`: ``workers`` CPU hogs (``stress-ng --cpu N --cpu-load L``) for ``seconds``;
- :func:`stress_memory`: ``workers`` memory hogs holding ``vm_bytes`` each (``stress-ng --vm N --vm-bytes B
  --vm-keep``), which in the target's cgroup eat into its memory limit;
- :func:`end_stress`: end every stressor of this run and any the ledger still holds (the rollback;
  idempotent); :func:`wait_stress_ended` waits until the stress is over by itself.

``scope``: ``target`` (the stressors join the target process's cgroup: they compete with it within its
CPU quota and memory limit), ``host`` (they run where the drill runs), ``auto`` (``target`` when the
target's cgroup is not the drill's own, e.g. ``lab up --cpu-limit``, a container; else ``host``). The
target process is ``TARGET_PROCESS`` (:mod:`chaosaitrapp.stress.target`). A pod (``k8s:NAMESPACE/pod/NAME``) is
stressed by a Chaos Mesh StressChaos in its container instead (:mod:`chaosaitrapp.stress.chaosmesh`): no stress-ng
runs here, and the same timer, ledger and events apply.

Bounds, checked before anything starts (ConfigError, nothing injected): ``seconds`` in (0, 600],
``workers`` 1 to the machine's CPUs, ``load`` 1-100 %, ``vm_bytes`` times ``workers`` at most half the
machine's memory. Each stressor is in the fault ledger with a lease (``seconds`` + 30 s) before it starts,
in its own process group, has stress-ng's own ``--timeout`` and an in-run timer that ends it
:data:`END_AFTER_S` after it should have ended (stress-ng under load can take seconds more to wind its workers
down); a SIGKILLed ``chaos run`` leaves it to the watchdog. A stressor still running :data:`GRACE_S` after its
time (its end failed) is marked on the timeline (``stress_overran``): the ``stress_bounded`` check fails the drill.
"""
import itertools
import os
import threading
import time
from typing import Any, Dict, List, Optional, Tuple, Union

import psutil
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import current_run, dry_wait, record_event
from chaosaitrapp.paths import state_dir
from chaosaitrapp.safety.faults import register_fault, restore_faults, restore_outstanding
from chaosaitrapp.stress.chaosmesh import MAX_WORKERS, StressChaosDriver, end_stress_chaos, stress_chaos_driver
from chaosaitrapp.stress.stressor import StressDriver, log_path, stress_ng
from chaosaitrapp.stress.target import target_process, target_spec
from chaosaitrapp.targets.cgroups import cgroup_of, parse_size
from chaosaitrapp.targets.kubernetes.pod import is_pod
from chaosaitrapp.waiting import check_duration, require, wait_until

__all__ = ["end_stress", "stress_cpu", "stress_memory", "wait_stress_ended"]

MAX_SECONDS = 600.0
LEASE_MARGIN_S = 30.0
#: How long after its time a stressor may take to exit before it counts as overrunning.
GRACE_S = 5.0
#: How long after its time the drill ends a stressor still running itself.
END_AFTER_S = 1.0
SCOPES = ("auto", "target", "host")
#: name -> (driver, ledger target, monotonic start, seconds, timer)
_RUNNING: Dict[str, Tuple[Union[StressDriver, StressChaosDriver], str, float, float, threading.Timer]] = {}
_LOCK = threading.Lock()
#: name -> set once its end (by whichever caller took it from ``_RUNNING``) is recorded: another caller waits on it.
_ENDING: Dict[str, threading.Event] = {}
#: How long a caller waits for another's end of the same stressor to be recorded (seconds).
ENDING_WAIT_S = 15.0
#: Numbers the stressors of this process (``cpu-1``, ``memory-2``...): a name is never reused while running.
_NUMBERS = itertools.count(1)


def _whole(name: str, value: Any, low: int, high: int, why: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number {low}-{high}, got {value!r}", key=name) from None
    if isinstance(value, bool) or float(value) != number or not low <= number <= high:
        raise ConfigError(f"{name} must be a whole number {low}-{high} ({why}), got {value!r}", key=name)
    return number


def _seconds(seconds: Any) -> float:
    value = check_duration("seconds", seconds, allow_zero=False)
    if value > MAX_SECONDS:
        raise ConfigError(f"seconds must be at most {MAX_SECONDS:g} (stress is bounded), got {seconds!r}", key="seconds")
    return value


def _workers(workers: Any, spec: str) -> int:
    if is_pod(spec):
        return _whole("workers", workers, 1, MAX_WORKERS, f"at most {MAX_WORKERS} in a pod")
    cpus = os.cpu_count() or 1
    return _whole("workers", workers, 1, cpus, f"this machine has {cpus} CPU(s)")


def _scope(scope: str) -> str:
    if scope not in SCOPES:
        raise ConfigError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}", key="scope")
    return scope


def _placement(scope: str, spec: str) -> Tuple[Optional[Any], str, Dict[str, Any]]:
    """``(cgroup or None, where, target facts)``: the cgroup the stressors join (None: beside the target)."""
    target = target_process(spec=spec)
    facts = {"target_pid": target.pid, "target_label": target.label}
    if scope == "host":
        return None, "host", facts
    group = cgroup_of(target.pid)
    facts["target_cgroup"] = group.describe()
    if scope == "auto" and group.same_as(cgroup_of(None)):
        return None, "host (the target's cgroup is the drill's own)", facts
    return group, f"the target's {group.describe()}", facts


def _driver(kind: str, argv: List[str], stressors: Dict[str, Dict[str, Any]], seconds: float, lease_s: float,
            scope: str, spec: str, configuration: Configuration,
            detail: str) -> Tuple[Union[StressDriver, StressChaosDriver], str, Dict[str, Any]]:
    """``(driver, where, target facts)``: a StressChaos for a pod, else stress-ng on this host."""
    if is_pod(spec):
        driver = stress_chaos_driver(spec, stressors, seconds, lease_s, scope, configuration, detail)
        return driver, f"pod {spec} (a Chaos Mesh StressChaos in its container)", {"target_label": spec}
    stress_ng()
    group, where, facts = _placement(scope, spec)
    run = current_run()
    log = log_path(run.directory if run is not None else state_dir(), f"{run.drill if run else 'stress'}_{kind}")
    return StressDriver(argv, cgroup_procs=group.procs_files() if group is not None else [], label=detail,
                        log=log), where, facts


def _inject(kind: str, argv: List[str], stressors: Dict[str, Dict[str, Any]], seconds: float, scope: str,
            spec: str, configuration: Configuration, detail: str) -> Dict[str, Any]:
    run = current_run()
    name = f"{kind}-{next(_NUMBERS)}"
    lease_s = seconds + GRACE_S + LEASE_MARGIN_S
    driver, where, facts = _driver(name, argv, stressors, seconds, lease_s, _scope(scope), spec, configuration,
                                   detail)
    text = f"{detail} for {seconds:g}s in {where}"
    # the launcher waits for go: its pid and start time (the stressor's, after the exec) go into the ledger
    # with a watchdog first; dying before go closes its stdin and it exits without stressing
    driver.launch()
    target = driver.describe()
    entry = None
    try:
        entry = register_fault(f"stress {kind}", target, driver.undo(), lease_s)
        driver.go()
        record_event("fault", target, text, dependency="target", stress=kind, seconds=seconds, **facts)
        timer = threading.Timer(seconds + END_AFTER_S, _end_one, args=(name, "its time ran out"))
        timer.daemon = True
        with _LOCK:
            _RUNNING[name] = (driver, target, time.monotonic(), seconds, timer)
        timer.start()
        record_event("fault_injected", target, text, dependency="target", stress=kind, seconds=seconds)
    except BaseException:
        with _LOCK:
            _RUNNING.pop(name, None)
        restore_faults(target, driver, 10.0) if entry else driver.start(10.0)
        raise
    if run is not None:
        run.note(f"stress: {text} (pid {driver.pid}, lease {lease_s:g}s)")
    return {"stressor": name, "target": target, "pid": driver.pid, "seconds": seconds, "where": where,
            "lease_s": lease_s, "ledger_entry": entry, "argv": ["stress-ng", *argv], **facts}


def stress_cpu(seconds: float = 20, workers: int = 2, load: int = 100, scope: str = "auto",
               configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Start ``workers`` stress-ng CPU workers at ``load`` % each for ``seconds`` (module docstring for
    ``scope`` and the bounds); returns at once with ``{"stressor", "target", "pid", "seconds", "where",
    "lease_s", "ledger_entry", "argv", "target_pid", ...}``. Raises ConfigError for a bad value (nothing
    started), TargetNotFound when the target process is unknown, TargetError when stress-ng cannot
    start or join the cgroup."""
    seconds = _seconds(seconds)
    spec = target_spec(configuration)
    workers = _workers(workers, spec)
    load = _whole("load", load, 1, 100, "percent of a CPU each worker keeps busy")
    argv = ["--cpu", str(workers), "--cpu-load", str(load), "--timeout", f"{seconds:g}s", "--metrics-brief"]
    return _inject("cpu", argv, {"cpu": {"workers": workers, "load": load}}, seconds, scope, spec, configuration,
                   f"{workers} CPU worker(s) at {load}%")


def stress_memory(seconds: float = 20, workers: int = 1, vm_bytes: str = "64M", scope: str = "auto",
                  configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Start ``workers`` stress-ng memory workers each holding ``vm_bytes`` (``64M``, ``1G``; kept
    resident, rewritten) for ``seconds``; returns and raises as :func:`stress_cpu` (ConfigError too for a
    size that is malformed or, over all workers, more than half the machine's memory; for a pod, more than its
    container's memory limit, or a container without one)."""

    seconds = _seconds(seconds)
    spec = target_spec(configuration)
    workers = _workers(workers, spec)
    size = parse_size(vm_bytes, "vm_bytes")
    total = int(psutil.virtual_memory().total)
    if not is_pod(spec) and size * workers > total // 2:  # a pod's: its container's limit (stress.chaosmesh)
        raise ConfigError(f"vm_bytes {vm_bytes!r} x {workers} worker(s) = {size * workers / 2**20:.0f} MiB is more "
                          f"than half this machine's {total / 2**20:.0f} MiB of memory", key="vm_bytes")
    argv = ["--vm", str(workers), "--vm-bytes", str(size), "--vm-keep", "--timeout", f"{seconds:g}s",
            "--metrics-brief"]
    size_text = f"{size // 2**20}MiB" if size % 2**20 == 0 else f"{max(1, size // 1024)}KiB"
    chaos = {"memory": {"workers": workers, "size": size_text, "bytes": size}}
    return _inject("memory", argv, chaos, seconds, scope, spec, configuration,
                   f"{workers} memory worker(s) of {size / 2**20:.0f} MiB")


def _end_one(name: str, why: str) -> Optional[Dict[str, Any]]:
    """End stressor ``name`` of this run if it still runs; what became of it, or None when unknown. When another
    caller (the in-run timer) is ending it, returns once that end is recorded (up to :data:`ENDING_WAIT_S`), so the
    timeline shows the stress over before this caller goes on."""
    with _LOCK:
        held = _RUNNING.pop(name, None)
        ending = _ENDING.setdefault(name, threading.Event()) if held is not None else _ENDING.get(name)
    if held is None:
        if ending is not None:
            ending.wait(ENDING_WAIT_S)
        return None
    try:
        return _finish(name, why, held)
    finally:
        ending.set()


def _finish(name: str, why: str,
            held: Tuple[Union[StressDriver, StressChaosDriver], str, float, float, threading.Timer]) -> Dict[str, Any]:
    """End the stressor ``held`` (taken from ``_RUNNING`` by :func:`_end_one`) and record its end."""
    driver, target, since, seconds, timer = held
    timer.cancel()
    elapsed = time.monotonic() - since
    alive = not driver.is_running()
    overran = alive and elapsed > seconds + GRACE_S
    if overran:
        record_event("stress_overran", target, f"stressor still running {elapsed:.1f}s after it started "
                     f"({seconds:g}s asked): ended by {why}", stress=name, overrun_s=round(elapsed - seconds, 3))
    if alive:
        record_event("restore", target, f"end stress {name}: {why}", stress=name)
    restore_faults(target, driver, 10.0)
    record_event("restored", target, f"stress {name} over after {elapsed:.2f}s" + ("" if alive else " (it ended by itself)"),
                 stress=name, stressed_s=round(min(elapsed, seconds) if not alive else elapsed, 3))
    return {"stressor": name, "seconds": round(elapsed, 3), "was_running": alive, "overran": overran,
            "exit_code": driver.exited()}


def end_stress(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """End every stressor this run started and any the ledger still holds (a run that died before its
    rollback); idempotent. Returns ``{"ended": [what became of each], "from_ledger": n}``; raises TargetError
    when a stressor survives SIGKILL."""
    with _LOCK:
        names = list(_RUNNING)
    ended = [r for r in (_end_one(name, "end_stress") for name in names) if r is not None]
    return {"ended": ended, "from_ledger": restore_outstanding(StressDriver) + end_stress_chaos()}


def wait_stress_ended(timeout: float = 0, interval: float = 0.1, configuration: Configuration = None,
                      secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until every stressor of this run has ended by itself (its ``seconds`` are up), up to ``timeout``
    seconds (0: the longest one's remaining time plus 5 s), then clear them from the ledger and mark the
    end on the timeline. Returns the wait's record plus ``ended``; raises ConditionTimeout when one still
    runs at the deadline (the rollback ends it; the run shows it overran)."""
    skipped = dry_wait("the stress to end")
    if skipped is not None:
        return skipped
    with _LOCK:
        running = dict(_RUNNING)
    deadline_s = check_duration("timeout", timeout)
    if deadline_s == 0:
        now = time.monotonic()
        deadline_s = max([since + seconds - now for _, _, since, seconds, _ in running.values()] + [0.0]) + GRACE_S
    result = wait_until(lambda: [n for n, held in running.items() if not held[0].is_running()], lambda left: not left,
                        timeout=deadline_s, interval=interval, what="every stressor to end")
    out = require(result, "no stressor left").as_dict()
    out["ended"] = [r for r in (_end_one(name, "wait_stress_ended") for name in running) if r is not None]
    return out
