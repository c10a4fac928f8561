"""Run drills as ``chaos run`` subprocesses and gather a suite's outputs for CI.

Each drill is a real Chaos Toolkit run of ``experiments/<drill>.json``; its verdict is read
from the ``chaosaitrapp`` journal extension written by the evidence control (and is FAIL when
the journal has none). The suite writes a JUnit XML file (one test case per drill), a JSON
summary and one HTML page linking every drill's report, and prints progress as it goes.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from chaosaitrapp.evidence.recorder import stamp
from chaosaitrapp.paths import reports_dir

DRILLS = ("leader_lock", "postgres_blip", "rate_limit_spike")


def chaos_executable() -> str:
    """The ``chaos`` command beside this Python (the venv), else on PATH."""
    beside = Path(sys.executable).with_name("chaos")
    if beside.exists():
        return str(beside)
    found = shutil.which("chaos")
    if not found:
        raise FileNotFoundError("the `chaos` command (chaostoolkit) is not installed")
    return found


def run_drill(drill: str, experiments: Path, out_dir: Path, extra_args: Sequence[str] = (),
              echo=print, started: Optional[float] = None) -> Dict[str, object]:
    """Run one drill with ``chaos run``; return its run summary (verdict, reasons, paths, duration)."""
    experiment = experiments / f"{drill}.json"
    if not experiment.exists():
        raise FileNotFoundError(f"no experiment for drill {drill!r}: {experiment} does not exist")
    out_dir.mkdir(parents=True, exist_ok=True)
    journal_path = out_dir / f"{drill}_journal.json"
    journal_path.unlink(missing_ok=True)
    log_path = out_dir / f"{drill}_chaostoolkit.log"
    argv = [chaos_executable(), "--log-file", str(log_path), "run", "--journal-path", str(journal_path),
            *extra_args, str(experiment)]
    env = {**os.environ, "AITRAPP_REPORTS_DIR": str(out_dir)}
    began = time.monotonic()
    origin = started if started is not None else began
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    for line in process.stdout:
        echo(f"[{drill} +{time.monotonic() - origin:6.1f}s] {line.rstrip()}")
    code = process.wait()
    duration = time.monotonic() - began
    return summarise(drill, journal_path, code, duration)


def summarise(drill: str, journal_path: Path, exit_code: int, duration: float) -> Dict[str, object]:
    """The run dict used by the JUnit/summary/index writers."""
    run: Dict[str, object] = {"drill": drill, "exit_code": exit_code, "duration": round(duration, 3),
                              "journal": str(journal_path), "verdict": "FAIL", "reasons": [], "report": None,
                              "log": None}
    try:
        journal = json.loads(journal_path.read_text())
    except (OSError, ValueError) as exc:
        run["reasons"] = [f"no journal from chaos run (exit {exit_code}): {exc}"]
        return run
    ext = next((e for e in journal.get("extensions", []) if e.get("name") == "chaosaitrapp"), None)
    if ext is None:
        run["reasons"] = [f"the journal has no chaosaitrapp verdict (status {journal.get('status')!r})"]
        return run
    run.update(verdict=ext["verdict"], reasons=ext.get("reasons", []), checks=ext.get("checks", []),
               report=ext.get("evidence", {}).get("report"), log=ext.get("evidence", {}).get("log"),
               evidence=ext.get("evidence", {}))
    if ext["verdict"] == "PASS" and exit_code != 0:
        run["verdict"] = "FAIL"
        run["reasons"] = [f"chaos run exited {exit_code} although the drill passed"]
    return run


def run_suite(drills: Sequence[str], experiments: Path, out_dir: Optional[Path] = None,
              extra_args: Sequence[str] = (), echo=print) -> Dict[str, object]:
    """Run ``drills`` in order and write JUnit, summary and index; returns the summary dict."""
    from chaosaitrapp.report.html import render_suite_index
    from chaosaitrapp.report.junit import write_junit, write_summary_json

    out_dir = out_dir or reports_dir()
    started = time.monotonic()
    runs: List[Dict[str, object]] = []
    for index, drill in enumerate(drills, 1):
        echo(f"== [{index}/{len(drills)}] {drill}: starting (suite elapsed {time.monotonic() - started:.1f}s)")
        run = run_drill(drill, experiments, out_dir, extra_args, echo, started)
        runs.append(run)
        echo(f"== [{index}/{len(drills)}] {drill}: {run['verdict']} in {run['duration']:.1f}s"
             + (f" ({run['reasons'][0]})" if run["reasons"] else "")
             + (f"; evidence {run['log']}" if run.get("log") else ""))
    tag = stamp()
    junit = write_junit(runs, out_dir / f"suite_{tag}.junit.xml")
    summary = write_summary_json(runs, out_dir / f"suite_{tag}.summary.json")
    index = render_suite_index(runs, out_dir / f"suite_{tag}.html")
    verdict = "PASS" if runs and all(r["verdict"] == "PASS" for r in runs) else "FAIL"
    echo(f"== suite {verdict}: {sum(r['verdict'] == 'PASS' for r in runs)}/{len(runs)} drills passed in "
         f"{time.monotonic() - started:.1f}s; JUnit {junit}; summary {summary}; report {index}")
    return {"verdict": verdict, "runs": runs, "junit": str(junit), "summary": str(summary), "index": str(index)}
