"""Benchmark: how long a drill that has already failed keeps running (fail fast, issue 18).

    .venv/bin/python bench/fail_fast.py [--rounds 1] [--wait-ready-timeout 60]

A lab comes up with a defect that makes a drill fail in its method (``ws_never_reconnects``: the
ticker never comes back, so ``websocket_reconnect``'s wait for ``/ready`` runs to its deadline); the
drill runs with ``WAIT_READY_TIMEOUT`` as given. Printed per round: the whole ``chaos run`` (wall),
and from the fault event to the run's end, against the promise ``WAIT_READY_TIMEOUT + 30 s`` after the
fault (the rollbacks' restore and evidence writing included). Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from drills.kit import run_drill, start_lab  # noqa: E402


def fault_to_end(run) -> float:
    """Seconds from the drill's first fault event to its timeline's end record."""
    path = run.extension["evidence"]["timeline"]
    records = [json.loads(line) for line in open(path) if line.strip()]
    fault = min(r["t"] for r in records if r.get("kind") == "event" and r.get("event") == "fault")
    end = max(r["t"] for r in records if r.get("kind") == "end")
    return end - fault


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--wait-ready-timeout", type=float, default=60.0)
    parser.add_argument("--defect", default="ws_never_reconnects")
    parser.add_argument("--drill", default="websocket_reconnect")
    args = parser.parse_args()
    lab = start_lab(defects=[args.defect])
    try:
        for round_ in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory(prefix="aitrapp-failfast-") as work:
                began = time.monotonic()
                run = run_drill(args.drill, lab, Path(work), {"WAIT_READY_TIMEOUT": str(args.wait_ready_timeout),
                                                              "DETECT_TIMEOUT": "30"}, timeout=900)
                wall = time.monotonic() - began
                print(f"round {round_}: {args.drill} against {args.defect}: verdict {run.fields.get('test_result')}, "
                      f"chaos run {wall:.1f} s, fault to end {fault_to_end(run):.1f} s "
                      f"(promise: WAIT_READY_TIMEOUT + 30 = {args.wait_ready_timeout + 30:.0f} s)")
    finally:
        lab.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
