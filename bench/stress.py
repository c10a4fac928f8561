"""The trader with and without CPU/memory stress, side by side: the oldest heartbeat, ``/ready`` p99 and the
order-placement p99 over the same paced order flow, measured the way the stress drills measure them (the
timeline sampler, effective heartbeat ages, bucket deltas of ``trader_order_latency_ms``).

Run: ``.venv/bin/python bench/stress.py [--seconds 15] [--orders 20] [--workers 2] [--defects blocking_scan]``. For each lab
(``fast`` profile; unlimited, and with ``--cpu-limit 0.5 --memory-limit 256M``) and each phase (no stress,
CPU stress, memory stress in the drill's default scope), prints one row.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402

from chaosaitrapp.api.client import TraderClient  # noqa: E402
from chaosaitrapp.api.metrics import histogram, parse_metrics  # noqa: E402
from chaosaitrapp.checks.measure import percentile, quantile_of_delta  # noqa: E402
from chaosaitrapp.checks.stress import HEARTBEAT_FIELDS, effective_ages  # noqa: E402
from chaosaitrapp.checks.timeline import load_timeline  # noqa: E402
from chaosaitrapp.evidence.sampler import Sampler, target_observer  # noqa: E402
from chaosaitrapp.lab.runtime import lab_down  # noqa: E402
from chaosaitrapp.orders.actions import burst_orders  # noqa: E402
from chaosaitrapp.stress.actions import end_stress, stress_cpu, stress_memory, wait_stress_ended  # noqa: E402
from chaosaitrapp.testing.lab import make_lab_dir, start_lab  # noqa: E402
from chaosaitrapp.waiting import wait_until  # noqa: E402


def latency_histogram(api: str):
    """The order-latency histogram, waiting (up to 60 s) for a trader that is still catching up to answer."""
    def read():
        try:
            return histogram(parse_metrics(requests.get(api + "/metrics", timeout=5).text), "trader_order_latency_ms")
        except requests.RequestException:
            return None
    return wait_until(read, lambda h: h is not None, timeout=60, interval=0.5, what="/metrics answered").value


def phase(api: str, stress: str, seconds: float, orders: int, workers: int, workdir: Path) -> dict:
    configuration = {"api": api}
    client = TraderClient.from_configuration(configuration)
    sampler = Sampler(workdir / f"{stress}.timeline.jsonl", target_observer(client), interval=0.05).start()
    before = latency_histogram(api)
    try:
        if stress == "cpu":
            stress_cpu(seconds=seconds, workers=workers, configuration=configuration)
        elif stress == "memory":
            stress_memory(seconds=seconds, workers=1, vm_bytes="64M", configuration=configuration)
        burst_orders(count=orders, over=seconds, duplicate_every=0, configuration=configuration)
        if stress != "none":
            wait_stress_ended(timeout=seconds + 10)
    finally:
        end_stress()
        sampler.stop()
    after = latency_histogram(api)
    timeline = load_timeline(workdir / f"{stress}.timeline.jsonl")
    ages = [a for field in HEARTBEAT_FIELDS for _, a in effective_ages(timeline, field) if a is not None]
    ready = [float(s["ready_ms"]) for s in timeline.samples if isinstance(s.get("ready_ms"), (int, float))]
    order_p99 = quantile_of_delta(before, after, 0.99) if before and after else None
    return {"heartbeat_max_s": max(ages), "ready_p99_ms": percentile(ready, 0.99), "order_p99_ms": order_p99,
            "samples": len(timeline.samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--defects", default="", help="lab defects, e.g. blocking_scan (what the drill must catch)")
    args = parser.parse_args()
    os.environ.setdefault("AITRAPP_CHAOS_STATE", tempfile.mkdtemp(prefix="aitrapp-bench-state-"))
    print(f"{'lab':<22} {'stress':<8} {'heartbeat max s':>16} {'/ready p99 ms':>14} {'order p99 ms':>13} {'samples':>8}")
    for label, limits in (("unlimited", {}), ("cpu 0.5, memory 256M", {"cpu_limit": 0.5, "memory_limit": "256M"})):
        directory = make_lab_dir("aitrapp-bench-stress-")
        state = start_lab(directory, profile="fast", defects=[d for d in args.defects.split(",") if d], **limits)
        os.environ["AITRAPP_LAB_DIR"] = str(directory)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for stress in ("none", "cpu", "memory"):
                    row = phase(state.api, stress, args.seconds, args.orders, args.workers, Path(tmp))
                    order = f"{row['order_p99_ms']:.0f}" if row["order_p99_ms"] is not None else "-"
                    print(f"{label:<22} {stress:<8} {row['heartbeat_max_s']:>16.2f} {row['ready_p99_ms']:>14.1f} "
                          f"{order:>13} {row['samples']:>8}", flush=True)
        finally:
            lab_down(directory)


if __name__ == "__main__":
    main()
