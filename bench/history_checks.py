"""Benchmark: the order-history checks on a long history (issue 23's goal: 1,000,000 placements in under 5 s).

    .venv/bin/python bench/history_checks.py [--placements 1000000] [--fenced] [--file]

Builds a timeline of ``--placements`` accepted placements at the broker proxy (the lead handed to a new
replica every 10,000 orders, each order acknowledged by the API and listed COMPLETE in the target's /orders,
``--fenced``: each placement with its grant's fencing token), then times each check that reads the whole
history: ``orders_exactly_once``, ``one_placer_at_a_time``, ``fencing_tokens_monotonic`` and
``orders_once_across_replicas`` (each verdict printed: all pass on this healthy history). ``--file``: also
writes the timeline as JSON lines and times loading it (:func:`chaosaitrapp.checks.timeline.load_timeline`),
as the evidence control does. Prints seconds and the process's peak memory; asserts nothing.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chaosaitrapp.checks.broker import orders_exactly_once  # noqa: E402
from chaosaitrapp.checks.limits import Limits  # noqa: E402
from chaosaitrapp.checks.registry import run_checks  # noqa: E402
from chaosaitrapp.checks.split_brain import fencing_tokens_monotonic, one_placer_at_a_time, orders_once_across_replicas  # noqa: E402
from chaosaitrapp.checks.timeline import Timeline, load_timeline  # noqa: E402

#: Orders between two handovers of the lead.
TERM = 10_000


def records(count: int, fenced: bool):
    """The timeline's records: meta, samples, the order burst event, the broker history, the orders record."""
    yield {"kind": "meta", "drill": "bench_history", "started_wall": 0.0, "interval": 0.05}
    for k in range(10):
        yield {"kind": "sample", "t": k * 0.05, "ready": True}
    ids = [f"bench{k:08d}" for k in range(count)]
    yield {"kind": "event", "t": 0.0, "event": "fault", "target": "orders", "accepted_ids": ids}
    yield {"kind": "broker", "t": 0.0, "what": "collected"}
    for k, client_order_id in enumerate(ids):
        term = k // TERM
        record = {"kind": "broker", "what": "order", "t": 1.0 + k * 0.001, "tag": client_order_id, "status": 200,
                  "order_id": f"B{k:09d}", "instance": f"r{term}"}
        if fenced:
            record["fence"] = term + 1
        yield record
    yield {"kind": "orders", "prefix": "bench", "orders": [{"client_order_id": i, "status": "COMPLETE"} for i in ids]}


def timed(label: str, func):
    began = time.perf_counter()
    result = func()
    print(f"{label:32} {time.perf_counter() - began:7.2f} s", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--placements", type=int, default=1_000_000)
    parser.add_argument("--fenced", action="store_true")
    parser.add_argument("--file", action="store_true")
    args = parser.parse_args()
    limits = Limits.aitrapp()
    timeline = timed("build the timeline", lambda: Timeline.from_records(records(args.placements, args.fenced)))
    if args.file:
        with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
            path = timeline.dump(Path(folder) / "history.timeline.jsonl")
            print(f"timeline file {path.stat().st_size / 1e6:.0f} MB")
            timeline = timed("load_timeline", lambda: load_timeline(path))
    total = 0.0
    for check in (orders_exactly_once, one_placer_at_a_time, fencing_tokens_monotonic, orders_once_across_replicas):
        began = time.perf_counter()
        result, = run_checks(timeline, limits, [check.__name__], {check.__name__: check})  # as the evidence control
        spent = time.perf_counter() - began
        total += spent
        print(f"{check.__name__:32} {spent:7.2f} s  {result.status}: {result.reason[:100]}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{args.placements} placements ({'fenced' if args.fenced else 'no fencing tokens'}): the four checks "
          f"{total:.2f} s together; peak memory {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
