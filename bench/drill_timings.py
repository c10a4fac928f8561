"""Benchmark: where a drill's wall time goes, by phase, through the seed's leader-lock script, against
the lab and against a non-lab target (a real-deployment stand-in), side by side.

    .venv/bin/python bench/drill_timings.py [--rounds 3] [--targets lab docker] [--drills leader_lock ...]

Targets:

- ``lab``: a fast lab of local processes; the drill finds it through ``lab.json`` (``auto`` -> ``lab:redis``);
- ``docker``: a fast lab whose Redis and Postgres are the containers ``redis`` and ``postgres`` on the
  seed's default ports, with its ``lab.json`` hidden from the drill: the drill sees a deployment it knows
  nothing about (``auto`` -> ``docker:redis``, AITRAPP's production limits), as against the real service.

"Target" is the target's own detection plus recovery: from the fault event to the first sample from which
``/ready`` stayed 200 (the timeline's marks). "Beyond" is everything else the suite spends: wall minus
target. Phases, from the process's start, the journal and the timeline: start-up (interpreter, Chaos
Toolkit, experiment load, up to the journal's start), controls (pre-flight, sampler start), steady state
before, method (target time included), steady state after, rollbacks, evidence and exit. Prints tables;
asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from drills.kit import drill_env, start_lab  # noqa: E402

from chaosaitrapp.checks import load_timeline, recovery_marks  # noqa: E402

SCRIPTS = {"leader_lock": "chaos_test_leader_lock.sh", "postgres_blip": "chaos_test_postgres.sh",
           "rate_limit_spike": "chaos_test_rate_limit.sh"}
PHASES = ("startup", "controls", "steady_before", "method", "steady_after", "rollbacks", "evidence_exit")


def _wall(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def phases_of(began: float, ended: float, reports: Path) -> dict:
    """Seconds per phase of the one drill in ``reports`` (see the module docstring)."""
    journal = json.loads(next(reports.glob("*_journal.json")).read_text())
    ext = next(e for e in journal["extensions"] if e["name"] == "chaosaitrapp")
    timeline = load_timeline(ext["evidence"]["timeline"])
    t0 = float(timeline.meta["started_wall"])
    at = {e["detail"]: t0 + float(e["t"]) for e in timeline.events if e.get("event") == "phase"}
    marks = recovery_marks(timeline)
    target = (marks["recover"] - marks["fault"]) if marks.get("recover") is not None and marks.get("fault") is not None \
        else None
    start, end = _wall(journal["start"]), _wall(journal["end"])
    out = {
        "startup": start - began,
        "controls": at["steady_state_before"] - start,
        "steady_before": at["method"] - at["steady_state_before"],
        "method": at["steady_state_after"] - at["method"],
        "steady_after": at["rollbacks"] - at["steady_state_after"],
        "rollbacks": end - at["rollbacks"],
        "evidence_exit": ended - end,
        "wall": ended - began, "target": target, "verdict": ext["verdict"],
    }
    out["beyond"] = out["wall"] - target if target is not None else None
    return out


def run_script(drill: str, env: dict) -> dict:
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    began = time.time()
    proc = subprocess.run(["bash", str(ROOT / "scripts" / SCRIPTS[drill])], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    ended = time.time()
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-1000:], file=sys.stderr)
    return phases_of(began, ended, reports)


def docker_lab():
    """A docker-runtime lab on the default ports, and the environment of a drill that cannot see it."""
    subprocess.run(["bash", str(ROOT / "scripts" / "docker" / "start-engine.sh")], check=True, capture_output=True)
    subprocess.run(["bash", str(ROOT / "scripts" / "docker" / "build-images.sh")], check=True, capture_output=True)
    from chaosaitrapp.lab.runtime import LabConfig, lab_up
    from chaosaitrapp.testing.lab import make_lab_dir

    directory = make_lab_dir("bench-docker-lab-")
    state = lab_up(LabConfig(lab_dir=directory, runtime="docker", images={
        "redis": "chaosaitrapp/redis:7-local", "postgres": "chaosaitrapp/postgres:15-local"}))
    return directory, state


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--targets", nargs="+", default=["lab", "docker"], choices=["lab", "docker"])
    parser.add_argument("--drills", nargs="+", default=["leader_lock"], choices=sorted(SCRIPTS))
    args = parser.parse_args()
    rows = []
    for target in args.targets:
        if target == "lab":
            lab = start_lab(profile="fast")
            directory, api, cleanup = lab.directory, lab.api, lab.down
        else:
            directory, state = docker_lab()
            api = state.api

            def cleanup(directory=directory):
                from chaosaitrapp.lab.runtime import lab_down

                lab_down(directory)
                shutil.rmtree(directory, ignore_errors=True)
        try:
            for drill in args.drills:
                for _ in range(args.rounds):
                    work = Path(tempfile.mkdtemp(prefix="bench-drill-"))
                    env = drill_env(None, work, {"NONINTERACTIVE": "1", "API": api, "DETECT_TIMEOUT": "30",
                                                 "WAIT_READY_TIMEOUT": "90", "OUTAGE_SECONDS": "3"})
                    env["AITRAPP_LAB_DIR"] = str(directory) if target == "lab" else str(work / "no-lab-here")
                    env.pop("REDIS_CONTAINER", None)
                    row = run_script(drill, env)
                    row.update(kind=target, drill=drill)
                    rows.append(row)
                    shutil.rmtree(work, ignore_errors=True)
        finally:
            cleanup()
    print(f"{'kind':7} {'drill':12} {'verdict':7} {'wall':>6} {'target':>7} {'beyond':>7} | "
          + " ".join(f"{p:>13}" for p in PHASES))
    for row in rows:
        fmt = lambda v: f"{v:7.2f}" if isinstance(v, float) else f"{'-':>7}"  # noqa: E731
        print(f"{row['kind']:7} {row['drill']:12} {row['verdict']:7} {row['wall']:6.2f} {fmt(row['target'])} "
              f"{fmt(row['beyond'])} | " + " ".join(f"{row[p]:13.2f}" for p in PHASES))
    print()
    for target in args.targets:
        for drill in args.drills:
            mine = [r for r in rows if r["kind"] == target and r["drill"] == drill and r["beyond"] is not None]
            if mine:
                beyond = [r["beyond"] for r in mine]
                print(f"{target:7} {drill:12} beyond the target's own detect + recover: median "
                      f"{statistics.median(beyond):.2f} s, max {max(beyond):.2f} s over {len(mine)} rounds")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
