"""Benchmark: wall time of each seed drill against the fast lab, how much of it is the target's own
detection and recovery, and what the sampler costs (probe latency p50/p99, CPU).

    .venv/bin/python bench/drill_timings.py [--rounds 3] [--profile fast]

"Target time" is from the fault event to the first sample at which /ready was 200 again and stayed
so (the timeline's measured detect + recover); "overhead" is the rest of the drill's wall time
(Chaos Toolkit start-up, steady states, evidence). Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from drills.kit import run_drill, start_lab  # noqa: E402

from chaosaitrapp.checks import load_timeline, recovery_marks  # noqa: E402


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", default="fast")
    args = parser.parse_args()
    lab = start_lab(profile=args.profile)
    env = {"DETECT_TIMEOUT": "30", "WAIT_READY_TIMEOUT": "90", "OUTAGE_SECONDS": "3"}
    print(f"{'drill':18} {'wall s':>7} {'target s':>9} {'overhead s':>10} {'samples/s':>9} "
          f"{'probe p50 ms':>12} {'p99 ms':>7} {'chaos CPU s':>11}")
    try:
        for drill in ("leader_lock", "postgres_blip", "rate_limit_spike"):
            for _ in range(args.rounds):
                work = Path(tempfile.mkdtemp(prefix="bench-"))
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.monotonic()
                run = run_drill(drill, lab, work, env)
                wall = time.monotonic() - t0
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                ext = run.extension
                timeline = load_timeline(ext["evidence"]["timeline"])
                marks = recovery_marks(timeline)
                target = None
                if marks.get("fault") is not None and marks.get("recover") is not None:
                    target = marks["recover"] - marks["fault"]
                latencies = [s.get("latency_ms") for s in timeline.samples if s.get("latency_ms") is not None]
                rate = ext["sampling"]["rate_hz"] if ext.get("sampling") else float("nan")
                overhead = wall - target if target is not None else float("nan")
                print(f"{drill:18} {wall:7.2f} {target if target is not None else float('nan'):9.2f} "
                      f"{overhead:10.2f} {rate:9.1f} {pct(latencies, .5):12.1f} {pct(latencies, .99):7.1f} "
                      f"{cpu:11.2f}  {ext['verdict']}")
    finally:
        lab.down()
    return 0


if __name__ == "__main__":
    sys.exit(main())
