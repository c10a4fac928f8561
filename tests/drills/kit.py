"""Running real `chaos run` drills against real labs, and reading their evidence."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import requests

from chaosaitrapp import registry
from chaosaitrapp.lab.runtime import lab_down
from chaosaitrapp.lab.runtime.postgres_process import volume_dir
from chaosaitrapp.targets.labstate import LabState
from chaosaitrapp.targets.process import read_pid_quietly
from chaosaitrapp.testing import lab as lab_testing
from chaosaitrapp.testing.lab import free_ports, make_lab_dir  # noqa: F401 (re-exported for the drill tests)
from chaosaitrapp.waiting import wait_stable, wait_until

ROOT = Path(__file__).resolve().parents[2]
CHAOS = str(Path(sys.executable).with_name("chaos"))
# Short deadlines so a drill against a defect fails in seconds, long enough for the fast lab to pass.
FAST_ENV = {"DETECT_TIMEOUT": "4", "WAIT_READY_TIMEOUT": "10", "OUTAGE_SECONDS": "1.5"}


@dataclass
class Lab:
    """A lab this test suite started: its directory and state."""

    directory: Path
    state: LabState

    @property
    def api(self) -> str:
        return self.state.api

    def pid(self, service: str) -> Optional[int]:
        """The pid in service ``service``'s pidfile now (None: none)."""
        return read_pid_quietly(self.directory / "run" / f"{service}.pid")

    def down(self) -> None:
        lab_down(self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)


def start_lab(profile: str = "fast", defects: Iterable[str] = (), api_key: Optional[str] = None,
              runtime: str = "process", mode: str = "PAPER", **extra) -> Lab:
    """Bring a lab up in a fresh directory on free ports."""
    directory = make_lab_dir("aitrapp-drill-lab-")
    state = lab_testing.start_lab(directory, profile=profile, defects=defects, api_key=api_key, runtime=runtime,
                                  mode=mode, **extra)
    return Lab(directory, state)


@dataclass
class DrillRun:
    """What one `chaos run` left behind."""

    code: int
    output: str
    reports: Path
    journal: Dict = field(default_factory=dict)
    stdout: str = ""

    @property
    def extension(self) -> Dict:
        return next((e for e in self.journal.get("extensions", []) if e.get("name") == "chaosaitrapp"), {})

    @property
    def checks(self) -> Dict[str, Dict]:
        """The run's checks (the extension's), by name."""
        return {c["name"]: c for c in self.extension.get("checks", [])}

    @property
    def log_path(self) -> Path:
        logs = sorted(p for p in self.reports.glob("*_20*.log"))
        assert logs, f"no evidence log in {self.reports}; output:\n{self.output[-3000:]}"
        return logs[-1]

    @property
    def fields(self) -> Dict[str, str]:
        lines = self.log_path.read_text().splitlines()
        out: Dict[str, str] = {}
        for line in lines[1:]:
            key, _, value = line.partition(",")
            out.setdefault(key, value)
        return out

    @property
    def reasons(self) -> List[str]:
        return [line.split(",", 1)[1] for line in self.log_path.read_text().splitlines()
                if line.startswith("failure_reason,")]

    def timeline_events(self) -> List[Dict]:
        """The events of the run's timeline (``<evidence>.timeline.jsonl``)."""
        return self._timeline("event")

    def timeline_samples(self) -> List[Dict]:
        """The sampler's samples of the run's timeline."""
        return self._timeline("sample")

    def _timeline(self, kind: str) -> List[Dict]:
        path = self.extension["evidence"]["timeline"]
        records = [json.loads(line) for line in open(path) if line.strip()]
        return [r for r in records if r.get("kind") == kind]

    def written_files(self) -> List[Path]:
        return [p for p in self.reports.rglob("*") if p.is_file()]


def drill_env(lab: Optional[Lab], workdir: Path, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a drill against ``lab``, with evidence, ledger and state under ``workdir``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("API_KEY", "DATABASE_URL", "PAUSE_ON_FAIL", "NONINTERACTIVE", "REDIS_TARGET", "POSTGRES_TARGET")}
    env.update(FAST_ENV)
    env["AITRAPP_REPORTS_DIR"] = str(workdir / "reports")
    env["AITRAPP_CHAOS_STATE"] = str(workdir / "state")
    if lab is not None:
        env["AITRAPP_LAB_DIR"] = str(lab.directory)
        env["API"] = lab.api
        clock = lab.state.services["trader"].env.get("AITRAPP_WALL_CLOCK_FILE")
        if clock:  # a lab started with fake_clock: its trader's clock file, as `lab up --fake-clock` prints it
            env["CLOCK_FILE"] = clock
        volume = volume_dir(lab.directory)
        if os.path.ismount(volume):  # a lab started with pg_volume_mb: its Postgres volume, as `lab up` prints it
            env["POSTGRES_VOLUME"] = str(volume)
    env.update(extra or {})
    return env


def settle(lab: Optional[Lab]) -> None:
    """Give ``lab`` time to be whole again after the previous test (``/ready`` 200 and the ticker connected:
    an aitrapp-profile ticker may take up to a minute to reconnect after a broker fault). Quiet when it
    never is: a lab with a defect may never be, and the drill's own steady state then says so."""
    if lab is None:
        return
    deadline = 90.0 if lab.state.profile == "aitrapp" else 20.0

    def whole() -> bool:
        try:
            state = requests.get(lab.api + "/state", timeout=2).json()
            return requests.get(lab.api + "/ready", timeout=2).status_code == 200 and \
                state.get("marketdata_connected") is True
        except (requests.RequestException, ValueError):
            return False

    # whole for 2 s in a row: a lab that has only just come back (a ticker reconnecting, a heartbeat
    # catching up on a loaded runner) can drop again before the drill's steady state is read
    wait_stable(whole, bool, hold=2.0, timeout=deadline, interval=0.1, what="the lab whole before the drill")


def run_drill(drill: str, lab: Optional[Lab], workdir: Path, extra: Optional[Dict[str, str]] = None,
              args: Iterable[str] = (), timeout: float = 300, chaos: str = CHAOS) -> DrillRun:
    """`chaos run experiments/<drill>.json` as CI would (against a lab that had time to be whole again),
    and what it wrote; ``chaos``: the command (another venv's, for another Python)."""
    settle(lab)
    env = drill_env(lab, workdir, extra)
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    reports.mkdir(parents=True, exist_ok=True)
    journal = reports / "journal.json"
    proc = subprocess.run([chaos, "--no-version-check", "--log-file", str(reports / "chaostoolkit.log"), "run", "--journal-path",
                           str(journal), *args, str(ROOT / "experiments" / f"{drill}.json")],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
                          stdin=subprocess.DEVNULL)
    data = json.loads(journal.read_text()) if journal.exists() else {}
    return DrillRun(proc.returncode, proc.stdout + proc.stderr, reports, data, proc.stdout)


def run_script(script: str, lab: Optional[Lab], workdir: Path, extra: Optional[Dict[str, str]] = None,
               timeout: float = 300) -> DrillRun:
    """`bash scripts/<script>` (a seed entry point) with the drill environment."""
    settle(lab)
    env = drill_env(lab, workdir, extra)
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    proc = subprocess.run(["bash", str(ROOT / "scripts" / script)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
    journals = sorted(reports.glob("*_journal.json")) if reports.exists() else []
    data = json.loads(journals[-1].read_text()) if journals else {}
    return DrillRun(proc.returncode, proc.stdout + proc.stderr, reports, data)


def ledger_entries(state: Path) -> List[Dict]:
    """The outstanding entries of ``<state>/ledger.json`` (none when it does not exist)."""
    path = state / "ledger.json"
    if not path.exists():
        return []
    return json.loads(path.read_text()).get("entries", [])


def sigkill_mid_fault(drill: str, lab: Lab, workdir: Path, extra: Dict[str, str], driver: type,
                      in_place: Callable[[Optional[int]], bool], timeout: float = 60) -> Optional[int]:
    """Start `chaos run <drill>` against ``lab``, wait (up to ``timeout``) until its ledger holds an entry of
    ``driver`` that ``in_place`` says is faulted (given the entry's pid, None for a fault without one),
    SIGKILL the run and return that pid; the test then waits for the watchdog to undo it
    (:func:`wait_ledger_empty`)."""
    settle(lab)
    env = drill_env(lab, workdir, extra)
    state = Path(env["AITRAPP_CHAOS_STATE"])
    Path(env["AITRAPP_REPORTS_DIR"]).mkdir(parents=True, exist_ok=True)
    chaos = subprocess.Popen([CHAOS, "--no-version-check", "run", "--journal-path", str(workdir / "journal.json"),
                              str(ROOT / "experiments" / f"{drill}.json")], env=env, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        def faulted() -> Optional[Dict]:
            found = [e["undo"] for e in ledger_entries(state) if registry.driver_class(e["undo"]) is driver]
            return found[0] if found and in_place(found[0].get("pid")) else None
        seen = wait_until(faulted, bool, timeout=timeout, interval=0.02, what=f"a {driver.__name__} fault in place")
        assert seen.held, f"{drill} never put a {driver.__name__} fault in place"
        chaos.send_signal(signal.SIGKILL)
        chaos.wait(10)
        return seen.value.get("pid")
    finally:
        if chaos.poll() is None:
            chaos.kill()
            chaos.wait(10)


def wait_ledger_empty(workdir: Path, timeout: float = 30) -> bool:
    """True once the drill's ledger (``<workdir>/state``) holds no entry, within ``timeout``."""
    return wait_until(lambda: ledger_entries(workdir / "state"), lambda e: e == [], timeout=timeout, interval=0.1,
                      what="the ledger empty").held
