"""Benchmark: the order-state drill for each state under both lab timing profiles: how long after the broker's last
word on an order the trader agreed with it, and how many orders were at odds with the broker at worst.

    .venv/bin/python bench/order_states.py [--rounds 3] [--profiles fast aitrapp] [--states partial_fill ...]

For each profile a healthy lab comes up; each state is drilled ``--rounds`` times with a real ``chaos run`` of
``broker_order_states`` (``ORDER_STATE_S`` 2, three orders) and the figures are read from the ``orders_converged``
check's (``converged_s``: the broker's last word to the trader agreeing, the worst order; ``orders_in_doubt_max``).
Prints median and max per profile and state; asserts nothing.
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

from chaosaitrapp.kitestates import KINDS  # noqa: E402

FIGURES = ("converged_s", "orders_in_doubt_max")
DEADLINES = {"WAIT_READY_TIMEOUT": "90", "CONVERGE_TIMEOUT": "60", "ORDER_STATE_S": "2"}


def _fmt(values) -> str:
    return f"{statistics.median(values):.2f} / {max(values):.2f}" if values else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profiles", nargs="+", default=["fast", "aitrapp"])
    parser.add_argument("--states", nargs="+", default=list(KINDS), choices=list(KINDS))
    args = parser.parse_args()
    rows = []
    for profile in args.profiles:
        lab = start_lab(profile=profile)
        try:
            for state in args.states:
                seen = {name: [] for name in FIGURES}
                verdicts = []
                for _ in range(args.rounds):
                    work = Path(tempfile.mkdtemp(prefix="bench-states-"))
                    try:
                        run = run_drill("broker_order_states", lab, work, {**DEADLINES, "ORDER_STATE": state},
                                        timeout=600)
                        verdicts.append(run.extension.get("verdict", "FAIL"))
                        for check in run.extension.get("checks", []):
                            for key, figure in (check.get("figures") or {}).items():
                                if check["name"] == "orders_converged" and key in seen:
                                    seen[key].append(float(figure))
                    finally:
                        shutil.rmtree(work, ignore_errors=True)
                rows.append((profile, state, seen, verdicts))
                print(json.dumps({"profile": profile, "state": state, "verdicts": verdicts, **seen}), flush=True)
        finally:
            lab.down()
    print()
    print(f"{'profile':<8} {'state':<23} " + " ".join(f"{name:>22}" for name in FIGURES) + "  verdicts (median / max)")
    for profile, state, seen, verdicts in rows:
        print(f"{profile:<8} {state:<23} " + " ".join(f"{_fmt(seen[name]):>22}" for name in FIGURES)
              + f"  {','.join(v[0] for v in verdicts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
