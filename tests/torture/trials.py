"""One signal torture trial: `chaos run <drill>` interrupted at a random moment of its method.

:func:`plan_trials` draws the whole plan from one seeded RNG (signal round-robin, anchor, delay),
so a run is reproducible and independent of which tests are selected. :func:`run_trial` starts
``chaos run`` in its own process group (as a terminal or a CI runner would), waits for the
anchor on the drill's timeline (the method's start, or the dependency stop), sleeps the drawn
delay, signals the group, then polls until the run is gone and the lab is whole (Redis and
Postgres answer, /ready 200, the fault ledger empty) within the fault lease. It returns what it
saw; the test module asserts on it.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import requests
from drills.checks import assert_lab_whole, orders_locked
from drills.kit import CHAOS, ROOT, Lab, drill_env, ledger_entries

from chaosaitrapp.safety.watchdog import process_start_time
from chaosaitrapp.targets.answers import postgres_answers, redis_answers

SIGNALS = ("SIGINT", "SIGTERM", "SIGKILL")
# Seconds after the anchor the signal may land in; each stays inside the method on the fast lab.
METHOD_SPAN = {"leader_lock": 3.0, "postgres_blip": 2.0, "rate_limit_spike": 2.5}
# Seconds after the dependency stop during which the fault is in place on the fast lab.
FAULT_SPAN = {"leader_lock": 0.35, "postgres_blip": 1.6}
ANCHOR_TIMEOUT = 60.0
POLL = 0.05
# Last line a watchdog writes before it exits (see chaosaitrapp.safety.watchdog): a clean end (nothing left to
# undo: cleared by the run, undone by the watchdog, gone, or never recorded because the run ended first), or not.
_CLEAN_END = re.compile(r": (cleared, nothing to undo|undone: |gone: |never recorded)")
_WATCHDOG_END = re.compile(r": (cleared, nothing to undo|undone: |gone: |never recorded|lifetime bound"
                           r"|ledger names run pid|ledger unreadable and lifetime)")
_WATCHDOG_LINE = re.compile(r"watchdog\[(\d+)\] (.*)$")


@dataclass(frozen=True)
class TrialPlan:
    """One planned trial: which drill, which signal, and when (``delay`` s after ``anchor``)."""

    drill: str
    index: int
    signal: str
    anchor: str  # "method": the method's start; "fault": the dependency stop or the first broker fault
    delay: float
    env: Tuple[Tuple[str, str], ...] = ()  # extra drill environment (e.g. WS_FAULT)

    @property
    def id(self) -> str:
        variant = f"-{dict(self.env)['WS_FAULT']}" if "WS_FAULT" in dict(self.env) else ""
        return f"{self.drill}{variant}-{self.index:02d}-{self.signal}-{self.anchor}"


@dataclass
class TrialResult:
    """What one trial saw. Times are seconds after the signal."""

    plan: TrialPlan
    workdir: str
    alive_at_signal: bool = False
    signalled_wall: float = 0.0
    phase_at_signal: str = ""
    fault_in_place_at_signal: bool = False
    exit_code: Optional[int] = None
    exit_s: Optional[float] = None
    restore_s: Optional[float] = None
    journal: Dict = field(default_factory=dict)
    events: List[Dict] = field(default_factory=list)
    watchdogs: Dict[int, List[str]] = field(default_factory=dict)
    output_tail: str = ""
    missing: List[str] = field(default_factory=list)

    @property
    def journal_written(self) -> bool:
        return bool(self.journal)

    def summary(self) -> Dict:
        """The row kept for the summary table and JSON file."""
        row = asdict(self.plan)
        row.update(delay=round(self.plan.delay, 3), phase_at_signal=self.phase_at_signal,
                   fault_in_place_at_signal=self.fault_in_place_at_signal, exit_code=self.exit_code,
                   exit_s=None if self.exit_s is None else round(self.exit_s, 3),
                   restore_s=None if self.restore_s is None else round(self.restore_s, 3),
                   journal_status=self.journal.get("status") if self.journal else None,
                   rollbacks=[r["activity"]["name"] for r in self.journal.get("rollbacks", [])] if self.journal else None,
                   restored_by=restored_by(self), workdir=self.workdir)
        return row


def plan_trials(seed: int, drills: Sequence[str], per_drill: int) -> List[TrialPlan]:
    """The whole plan from ``random.Random(seed)``: signals round-robin (rotated per drill so each
    signal gets the same share overall), anchors alternating fault/method by rounds of one trial per
    signal for drills that stop a dependency (method only for the others), delays uniform over the
    anchor's span."""
    rng = random.Random(seed)
    plans = []
    for d, drill in enumerate(drills):
        for i in range(per_drill):
            sig = SIGNALS[(i + d) % len(SIGNALS)]
            anchor = "fault" if drill in FAULT_SPAN and (i // len(SIGNALS)) % 2 == 0 else "method"
            span = FAULT_SPAN[drill] if anchor == "fault" else METHOD_SPAN[drill]
            plans.append(TrialPlan(drill, i, sig, anchor, rng.uniform(0.0, span)))
    return plans


def timeline_events(reports: Path) -> List[Dict]:
    """The event records of the drill's timeline (``<drill>_<stamp>.timeline.jsonl``), oldest first."""
    events = []
    for path in sorted(reports.glob("*.timeline.jsonl")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:  # a line cut short by SIGKILL
                continue
            if record.get("kind") == "event":
                events.append(record)
    return events


def is_fault_event(event: Dict) -> bool:
    """A dependency stop, a broker fault, a partition, a pause, a stressor, a stall, a lock, a balloon, a clock jump or a
    trader killed (the faults a ledger entry stands for)."""
    return event.get("event") == "fault" and (event.get("detail") == "stop" or event.get("fault_name") == "crash" or str(
        event.get("target") or "").startswith(("broker-proxy:", "net-proxy:", "nft:", "pause:", "stress:", "redis_stall:",
                                                "postgres_lock:", "balloon:", "clock:")))


def _anchor_seen(reports: Path, anchor: str) -> bool:
    for event in timeline_events(reports):
        if anchor == "method" and event.get("event") == "phase" and event.get("detail") == "method":
            return True
        if anchor == "fault" and is_fault_event(event):
            return True
    return False


def watchdog_logs(state: Path) -> Dict[int, List[str]]:
    """The lines of ``<state>/watchdog.log`` grouped by watchdog pid."""
    path = state / "watchdog.log"
    out: Dict[int, List[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _WATCHDOG_LINE.search(line)
            if match:
                out.setdefault(int(match.group(1)), []).append(match.group(2))
    return out


def ended_cleanly(lines: List[str]) -> bool:
    """A watchdog's log lines end it cleanly: nothing of its entry left to undo."""
    return any(_CLEAN_END.search(line) for line in lines)


def watchdogs_done(state: Path) -> bool:
    """Every watchdog of this trial wrote its last line and exited."""
    for pid, lines in watchdog_logs(state).items():
        if not any(_WATCHDOG_END.search(line) for line in lines) or process_start_time(pid) is not None:
            return False
    return True


def restored_by(result: TrialResult) -> str:
    """Who undid the dependency fault: ``watchdog``, ``run``, or ``-`` (no fault was injected)."""
    if any("undone: " in line for lines in result.watchdogs.values() for line in lines):
        return "watchdog"
    if any(is_fault_event(e) for e in result.events):
        return "run"
    return "-"


def started_after(journal: Dict, wall: float) -> List[str]:
    """Names of the method/hypothesis activities the journal shows starting after Unix time ``wall``."""
    from datetime import datetime

    return [r["activity"]["name"] for r in journal.get("run", [])
            if datetime.fromisoformat(r["start"]).timestamp() > wall]


def lab_missing(lab: Lab, state: Optional[Path] = None) -> List[str]:
    """What is not whole yet: ``redis``, ``postgres``, ``/ready``, ``market data`` (the trader's ticker
    not connected), ``broker faults`` (faults left at the
    lab's broker fault proxy, or the proxy not answering), ``stressors`` (a process besides the trader in
    a lab trader's cgroup: `lab up --cpu-limit`), ``orders lock`` (the Postgres hang's lock still held), ``clock`` (a
    fake-clock lab trader's clock file not back at ``+0``), ``balloon`` (a disk-full balloon left on the lab
    Postgres' own volume), and ``ledger`` (entries left in
    ``<state>/ledger.json``, when ``state`` is given)."""
    from chaosaitrapp.gray.balloon import PREFIX as BALLOON_PREFIX
    from chaosaitrapp.lab.runtime.postgres_process import volume_dir
    from chaosaitrapp.targets.cgroups import from_dict
    from chaosaitrapp.targets.process import read_pid_quietly
    from chaosaitrapp.targets.wallclock import read_clock

    missing = []
    for service, group in (lab.state.cgroups or {}).items():
        own = read_pid_quietly(Path(lab.state.services[service].pidfile))
        if set(from_dict(group).pids()) - {own}:
            missing.append("stressors")
    for proxy, what in (("broker_proxy", "broker faults"), ("net_proxy", "network faults")):
        try:
            if requests.get(lab.state.endpoints[proxy] + "/faults", timeout=2).json()["faults"]:
                missing.append(what)
        except (requests.RequestException, ValueError, KeyError):
            missing.append(what)
    if state is not None and ledger_entries(state):
        missing.append("ledger")
    clock = lab.state.services["trader"].env.get("AITRAPP_WALL_CLOCK_FILE")
    if clock and not read_clock(clock).true:
        missing.append("clock")
    volume = volume_dir(lab.directory)
    if os.path.ismount(volume) and any(p.name.startswith(BALLOON_PREFIX) for p in volume.iterdir()):
        missing.append("balloon")
    if not redis_answers("127.0.0.1", lab.state.services["redis"].port):
        missing.append("redis")
    if not postgres_answers("127.0.0.1", lab.state.services["postgres"].port):
        missing.append("postgres")
    elif orders_locked(lab):
        missing.append("orders lock")
    try:
        if requests.get(lab.api + "/ready", timeout=2).status_code != 200:
            missing.append("/ready")
        if requests.get(lab.api + "/state", timeout=2).json().get("marketdata_connected") is not True:
            missing.append("market data")
    except (requests.RequestException, ValueError):
        missing.append("/ready")
    return missing


def _phase_at(events: List[Dict], wall: float) -> str:
    phase = "before_experiment"
    for event in events:
        if event.get("wall", 0) <= wall and event.get("event") == "phase":
            phase = event.get("detail") or phase
    return phase


def _fault_in_place_at(events: List[Dict], wall: float) -> bool:
    """True when some target had a fault at ``wall``: injected, not yet restored (per target: a broker fault cleared
    while the trader it was for is still down leaves a fault in place; a restore that names no faulty target ends
    them all)."""
    faulty = set()
    for event in events:
        if event.get("wall", 0) > wall:
            break
        if is_fault_event(event):
            faulty.add(event.get("target"))
        elif event.get("event") == "restored":
            if event.get("target") in faulty:
                faulty.discard(event.get("target"))
            else:  # a restore named otherwise than its fault (a kernel cut, healed by its proxy's name): all of them
                faulty.clear()
    return bool(faulty)


def run_trial(plan: TrialPlan, lab: Lab, workdir: Path, lease: float) -> TrialResult:
    """Play one trial (see the module docstring); the run is always reaped before returning."""
    env = drill_env(lab, workdir, {"AITRAPP_FAULT_LEASE": f"{lease:g}", **dict(plan.env)})
    reports, state = Path(env["AITRAPP_REPORTS_DIR"]), Path(env["AITRAPP_CHAOS_STATE"])
    reports.mkdir(parents=True, exist_ok=True)
    result = TrialResult(plan, str(workdir))
    out_path = reports / "chaos.out"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [CHAOS, "--no-version-check", "--log-file", str(reports / "chaostoolkit.log"), "run", "--journal-path",
             str(reports / "journal.json"), str(ROOT / "experiments" / f"{plan.drill}.json")],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=ROOT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + ANCHOR_TIMEOUT
        while not _anchor_seen(reports, plan.anchor):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{plan.id}: the drill never reached its {plan.anchor!r} anchor "
                                     f"(exit {proc.poll()}); output:\n{out_path.read_text()[-3000:]}")
            time.sleep(0.005)  # poll interval (deadline above)
        time.sleep(plan.delay)  # the random moment itself, not a wait for a state
        result.alive_at_signal = proc.poll() is None
        signalled_mono, signalled_wall = time.monotonic(), time.time()
        result.signalled_wall = signalled_wall
        if result.alive_at_signal:
            os.killpg(proc.pid, getattr(signal, plan.signal))
        deadline = signalled_mono + lease
        try:
            result.exit_code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            result.exit_s = time.monotonic() - signalled_mono
        except subprocess.TimeoutExpired:
            pass
        while result.exit_code is not None:
            missing = lab_missing(lab, state)
            if not missing:
                result.restore_s = time.monotonic() - signalled_mono
                break
            result.missing = missing
            if time.monotonic() > deadline:
                break
            time.sleep(POLL)
        while time.monotonic() < deadline and not watchdogs_done(state):
            time.sleep(POLL)
    finally:
        if proc.poll() is None:  # past the lease: end our own run so nothing lingers, then report
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    result.events = timeline_events(reports)
    result.phase_at_signal = _phase_at(result.events, signalled_wall)
    result.fault_in_place_at_signal = _fault_in_place_at(result.events, signalled_wall)
    result.watchdogs = watchdog_logs(state)
    journal = reports / "journal.json"
    if journal.exists():
        try:
            result.journal = json.loads(journal.read_text())
        except ValueError:
            result.journal = {"status": "<unreadable journal>"}
    result.output_tail = out_path.read_text(errors="replace")[-3000:]
    return result


def assert_left_whole(result: TrialResult, lab: Lab, workdir: Path, lease: float, what: str,
                      first_rollbacks: Sequence[str]) -> None:
    """The verdict of a trial whose signal had to land while a fault (``what``) was in place: the run ended
    within ``lease``, the lab is whole again within it (:func:`drills.checks.assert_lab_whole`); after a
    SIGKILL the watchdog undid the fault, otherwise the run's own rollback did, starting with one of
    ``first_rollbacks``."""
    plan = result.plan
    context = (f"\ntrial {plan.id}: phase {result.phase_at_signal}, fault in place {result.fault_in_place_at_signal}, "
               f"exit {result.exit_code}, missing {result.missing}\nwatchdogs {result.watchdogs}\n{result.output_tail}")
    assert result.alive_at_signal and result.phase_at_signal == "method", context
    assert result.fault_in_place_at_signal, f"the signal must land while {what}" + context
    assert result.exit_code is not None, f"chaos still ran {lease:g} s after {plan.signal}" + context
    assert result.restore_s is not None, f"not whole within the {lease:g} s lease: {result.missing}" + context
    assert_lab_whole(lab, workdir, timeout=max(1.0, lease - result.restore_s))
    if plan.signal == "SIGKILL":
        assert result.exit_code == -9 and restored_by(result) == "watchdog", context
    else:
        assert restored_by(result) != "watchdog", "the run's own rollback undoes the fault" + context
        assert result.journal.get("status") in ("interrupted", "failed"), context
        ran = [r["activity"]["name"] for r in result.journal.get("rollbacks", [])]
        assert ran[:1] and ran[0] in first_rollbacks, ran


def format_summary(rows: List[Dict], total_s: float) -> str:
    """The per-trial table, then per signal: trials, worst and median restore time."""
    lines = [f"{'trial':<48} {'delay':>6} {'phase':<20} {'fault':<5} {'exit':>5} {'exit_s':>7} "
             f"{'restore_s':>9} {'journal':<12} {'restored_by':<11}"]
    for row in rows:
        variant = dict(tuple(pair) for pair in row.get("env") or ()).get("WS_FAULT")
        trial = f"{row['drill']}{'-' + variant if variant else ''}-{row['index']:02d}-{row['signal']}-{row['anchor']}"
        lines.append(f"{trial:<48} {row['delay']:>6.3f} {row['phase_at_signal']:<20} "
                     f"{'yes' if row['fault_in_place_at_signal'] else 'no':<5} {str(row['exit_code']):>5} "
                     f"{row['exit_s'] if row['exit_s'] is not None else '-':>7} "
                     f"{row['restore_s'] if row['restore_s'] is not None else '-':>9} "
                     f"{str(row['journal_status']):<12} {row['restored_by']:<11}")
    lines.append("")
    lines.append(f"{'signal':<8} {'trials':>6} {'in fault':>8} {'worst restore_s':>16} {'median restore_s':>17}")
    for sig in SIGNALS:
        mine = [r for r in rows if r["signal"] == sig]
        times = sorted(r["restore_s"] for r in mine if r["restore_s"] is not None)
        worst = f"{times[-1]:.3f}" if times else "-"
        median = f"{times[len(times) // 2]:.3f}" if times else "-"
        faulted = sum(1 for r in mine if r["fault_in_place_at_signal"])
        lines.append(f"{sig:<8} {len(mine):>6} {faulted:>8} {worst:>16} {median:>17}")
    per_drill = {}
    for row in rows:
        per_drill.setdefault(row["drill"], []).append(row["signal"])
    for drill, sigs in per_drill.items():
        lines.append(f"{drill}: {len(sigs)} trials (" + ", ".join(f"{s} {sigs.count(s)}" for s in SIGNALS) + ")")
    lines.append(f"total torture run time: {total_s:.1f} s")
    return "\n".join(lines)
