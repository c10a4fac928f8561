"""How long the split-brain history checker takes on a large history: 100,000 placements over a few
leadership eras (with fencing tokens, and without), plus a handful of late orders from deposed leaders.

Run: ``.venv/bin/python bench/split_brain.py [--orders 100000] [--rounds 3]``. Prints the median time of
:func:`chaosaitrapp.checks.history.analyse` and of the four checkers on a timeline holding the history.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from chaosaitrapp.checks.history import analyse
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.split_brain import (
    fencing_tokens_monotonic,
    one_leader_at_a_time,
    one_placer_at_a_time,
    orders_once_across_replicas,
)
from chaosaitrapp.checks.timeline import Timeline


def history(n: int, fenced: bool, rng: random.Random):
    """``n`` placements in 5 eras, one leader each, and 5 late ones from the previous leader."""
    out, t = [], 0.0
    per_era = n // 5
    for era in range(5):
        for _ in range(per_era):
            t += rng.uniform(0.0005, 0.002)
            out.append({"t": round(t, 6), "instance": f"I{era}", "fence": era + 1 if fenced else None,
                        "tag": f"t{len(out)}", "status": 200, "order_id": str(len(out)), "dropped": False})
        t += 1.0
    for era in range(1, 5):
        first = next(p for p in out if p["fence" if fenced else "instance"] == (era + 1 if fenced else f"I{era}"))
        out.append({"t": first["t"] + 0.01, "instance": f"I{era - 1}", "fence": era if fenced else None,
                    "tag": f"late{era}", "status": 200, "order_id": f"late{era}", "dropped": False})
    return sorted(out, key=lambda p: p["t"])


def timeline(placements):
    records = [{"kind": "meta"}, {"kind": "event", "t": 0.0, "event": "fault_injected", "target": "orders",
                                  "accepted_ids": [p["tag"] for p in placements[:1000]]}]
    records += [{"kind": "sample", "t": i * 0.05, "replica_leaders": {"r0": 1.0, "r1": 0.0}, "latency_ms": 3}
                for i in range(int(placements[-1]["t"] / 0.05))]
    records.append({"kind": "end", "t": placements[-1]["t"] + 1})
    records += [{"kind": "broker", "what": "order", "by": "upstream", "sent_t": p["t"], **p} for p in placements]
    records.append({"kind": "broker", "what": "collected", "t": placements[-1]["t"] + 1})
    return Timeline.from_records(records)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(20261201)
    limits = Limits(detect_s=30, recover_s=90, lock_ttl=30.0)
    print(f"history of {args.orders} placements, median of {args.rounds} rounds")
    for fenced in (True, False):
        placements = history(args.orders, fenced, rng)
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            found = analyse(placements, [p["tag"] for p in placements[:1000]], lease_s=30.0)
            times.append(time.perf_counter() - started)
        tl = timeline(placements)
        checks = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            results = [c(tl, limits) for c in (one_placer_at_a_time, fencing_tokens_monotonic,
                                               orders_once_across_replicas, one_leader_at_a_time)]
            checks.append(time.perf_counter() - started)
        label = "with fencing tokens" if fenced else "without tokens    "
        print(f"  {label}: analyse {statistics.median(times):.3f} s ({len(found.of('overlap'))} overlaps, "
              f"{len(found.of('stale_fence'))} stale); four checkers on the timeline {statistics.median(checks):.3f} s "
              f"({', '.join(r.status for r in results)})")


if __name__ == "__main__":
    main()
