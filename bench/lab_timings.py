"""Benchmark: lab start, pause after Redis loss, recovery after Redis returns, per timing profile.

    .venv/bin/python bench/lab_timings.py [--rounds 3] [--profiles fast aitrapp]

Each round stops the lab's Redis through its driver and measures, by polling every 20 ms, when
/ready answered 503, when /state said is_paused, then restarts Redis and measures when /ready
answered 200 again. Prints a table; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from drills.kit import start_lab  # noqa: E402

from chaosaitrapp.targets.lab import driver_for_service  # noqa: E402
from chaosaitrapp.waiting import wait_until  # noqa: E402


def measure(profile: str, rounds: int) -> dict:
    began = time.monotonic()
    lab = start_lab(profile=profile)
    start_s = time.monotonic() - began
    api = lab.api
    redis = driver_for_service(lab.state.services["redis"])
    pauses, not_ready, recoveries = [], [], []
    try:
        for _ in range(rounds):
            t0 = time.monotonic()
            redis.stop(30)
            r = wait_until(lambda: requests.get(api + "/ready", timeout=1).status_code, lambda c: c == 503,
                           timeout=60, interval=0.02)
            not_ready.append(time.monotonic() - t0 if r.held else float("nan"))
            p = wait_until(lambda: requests.get(api + "/state", timeout=1).json()["is_paused"], lambda v: v is True,
                           timeout=60, interval=0.02)
            pauses.append(time.monotonic() - t0 if p.held else float("nan"))
            t1 = time.monotonic()
            redis.start(60)
            back = wait_until(lambda: requests.get(api + "/ready", timeout=1).status_code, lambda c: c == 200,
                              timeout=120, interval=0.02)
            recoveries.append(time.monotonic() - t1 if back.held else float("nan"))
    finally:
        lab.down()
    return {"profile": profile, "start_s": start_s, "not_ready_s": not_ready, "paused_s": pauses,
            "recovered_s": recoveries}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profiles", nargs="+", default=["fast", "aitrapp"])
    args = parser.parse_args()
    print(f"{'profile':8} {'lab up':>7} {'/ready 503 after stop':>24} {'paused after stop':>20} {'/ready 200 after start':>25}")
    for profile in args.profiles:
        m = measure(profile, args.rounds)
        fmt = lambda xs: f"{statistics.median(xs):5.2f} (max {max(xs):5.2f})"  # noqa: E731
        print(f"{profile:8} {m['start_s']:6.2f}s {fmt(m['not_ready_s']):>24} {fmt(m['paused_s']):>20} "
              f"{fmt(m['recovered_s']):>25}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
