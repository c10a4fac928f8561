"""The lab's order injector, shaped like AITRAPP's ``scripts/synthetic_plan_injector.py``: one plan per run,
dropped into the spool directory of a lab started with the ``spool`` order intake (which has no
``POST /orders``), where the trader takes it (:mod:`chaosaitrapp.lab.trader.intake`).

    python -m chaosaitrapp.lab.injector --spool DIR --symbol NIFTY --side LONG --qty 50 --strategy ORB \\
        [--plan-id ID] [--price P]

``--plan-id`` becomes the order's ``client_order_id`` (a drill passes ``{client_order_id}``); without it the
plan gets ``plan`` + 16 hex digits (a valid Kite tag). Exit 0 once the plan is in the spool (written
whole, then renamed into place), 2 for bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import List, Optional

from chaosaitrapp.lab.plans import SIDES


def main(argv: Optional[List[str]] = None) -> int:
    """Drop one plan into the spool; the exit code (module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m chaosaitrapp.lab.injector", description=__doc__.split("\n")[0])
    parser.add_argument("--spool", required=True, help="the lab's spool directory (<lab dir>/spool)")
    parser.add_argument("--symbol", required=True)
    parser.add_argument("--side", required=True, choices=sorted(SIDES), type=str.upper)
    parser.add_argument("--qty", required=True, type=int)
    parser.add_argument("--strategy", default="ORB")
    parser.add_argument("--plan-id", default="")
    parser.add_argument("--price", type=float, default=None)
    args = parser.parse_args(argv)
    if args.qty <= 0:
        parser.error("--qty must be positive")
    spool = Path(args.spool)
    if not spool.is_dir():
        parser.error(f"--spool {spool}: no such directory (is the lab up with the spool order intake?)")
    plan_id = args.plan_id or f"plan{uuid.uuid4().hex[:16]}"
    plan = {"plan_id": plan_id, "symbol": args.symbol, "direction": args.side, "qty": args.qty,
            "price": args.price, "strategy": args.strategy}
    name = f"{time.time_ns()}-{os.getpid()}"  # taken in name order: the order they came
    partial = spool / f".{name}.tmp"
    partial.write_text(json.dumps(plan))
    partial.rename(spool / f"{name}.json")
    print(plan_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
