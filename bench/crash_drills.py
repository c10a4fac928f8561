"""Benchmark: the crash drill at each crash point under both lab timing profiles: how long after the restart the
trader knows the broker's truth again, how many orders were in doubt at worst, what its own stale lock key cost.

    .venv/bin/python bench/crash_drills.py [--rounds 3] [--profiles fast aitrapp] [--points after_broker_ack ...]

For each profile a healthy lab comes up (two replicas for ``mid_leader_change``); each crash point is drilled ``--rounds`` times with a real ``chaos run`` of
``trader_crash`` and the figures are read from the ``orders_reconciled`` check's (``reconciled_s``: restart to no
order in doubt; ``orders_in_doubt_max``; ``leader_back_s``: restart to leading again; ``stale_key_s``: the TTL left
on the dead trader's lock key at the restart; ``resent``) and ``time_to_recover_ready``. Prints median and max per
profile and point; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from drills.kit import run_drill, start_lab  # noqa: E402

POINTS = ("after_broker_ack", "after_reply", "queue_full", "mid_leader_change")
#: The points drilled against a lab of two replicas.
REPLICATED = ("mid_leader_change",)
FIGURES = ("reconciled_s", "orders_in_doubt_max", "leader_back_s", "stale_key_s", "resent", "time_to_recover_ready",
           "won_to_kill_ms")
DEADLINES = {"DETECT_TIMEOUT": "30", "WAIT_READY_TIMEOUT": "90", "RECONCILE_TIMEOUT": "90"}


def _fmt(values) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f}" if values else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profiles", nargs="+", default=["fast", "aitrapp"])
    parser.add_argument("--points", nargs="+", default=list(POINTS), choices=list(POINTS))
    args = parser.parse_args()
    rows = []
    for profile in args.profiles:
        for group in ([p for p in args.points if p not in REPLICATED], [p for p in args.points if p in REPLICATED]):
            if not group:
                continue
            lab = start_lab(profile=profile, replicas=2 if group[0] in REPLICATED else 1)
            try:
                for point in group:
                    seen = {name: [] for name in FIGURES}
                    verdicts = []
                    for _ in range(args.rounds):
                        work = Path(tempfile.mkdtemp(prefix="bench-crash-"))
                        try:
                            run = run_drill("trader_crash", lab, work, {**DEADLINES, "CRASH_POINT": point},
                                            timeout=600)
                            verdicts.append(run.extension.get("verdict", "FAIL"))
                            for check in run.extension.get("checks", []):
                                if check["name"] == "time_to_recover_ready" and check.get("value") is not None:
                                    seen["time_to_recover_ready"].append(float(check["value"]))
                                for key, figure in (check.get("figures") or {}).items():
                                    if check["name"] == "orders_reconciled" and key in seen:
                                        seen[key].append(float(figure))
                            seen["won_to_kill_ms"] += [float(e["won_to_kill_ms"]) for e in run.timeline_events()
                                                       if e.get("won_to_kill_ms") is not None]
                        finally:
                            shutil.rmtree(work, ignore_errors=True)
                    rows.append((profile, point, seen, verdicts))
                    print(json.dumps({"profile": profile, "point": point, "verdicts": verdicts, **seen}), flush=True)
            finally:
                lab.down()
    print()
    print(f"{'profile':<8} {'point':<17} " + " ".join(f"{name:>22}" for name in FIGURES) + "  verdicts (median / max)")
    for profile, point, seen, verdicts in rows:
        print(f"{profile:<8} {point:<17} " + " ".join(f"{_fmt(seen[name]):>22}" for name in FIGURES)
              + f"  {','.join(v[0] for v in verdicts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
