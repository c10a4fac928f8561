"""``aitrapp-chaos lab up|down|status|logs``: the lab from the command line.

:func:`add_lab_parser` registers the ``lab`` subcommand on an argparse subparsers object (the
project's ``chaosaitrapp/cli.py`` calls it) and sets ``func`` on the parsed namespace to
:func:`run_lab`, which returns the exit code. Standalone: ``python -m chaosaitrapp.lab.cli up ...``.

The API key, if wanted, comes from ``$API_SECRET_KEY`` (never printed) and is passed to the trader only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import List, Optional

from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.lab.defects import KNOWN_DEFECTS
from chaosaitrapp.lab.profiles import DEFAULT_PROFILE, PROFILES
from chaosaitrapp.lab.runtime.config import DEFAULT_IMAGES, RUNTIMES, LabConfig, LabPorts
from chaosaitrapp.paths import lab_dir as default_lab_dir


def _lab_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lab-dir", type=Path, default=None,
                        help="lab state directory (default: $AITRAPP_LAB_DIR or $AITRAPP_CHAOS_STATE/lab)")


def add_lab_parser(subparsers: "argparse._SubParsersAction") -> argparse.ArgumentParser:
    """Register ``lab`` with actions ``up``, ``down``, ``status``, ``logs``; returns the ``lab`` parser."""
    lab = subparsers.add_parser("lab", help="start, stop and inspect the reference lab target",
                                description="The reference AITRAPP-compatible lab: Redis, Postgres, broker "
                                            "simulator and trader on loopback.")
    actions = lab.add_subparsers(dest="lab_action", metavar="{up,down,status,logs}")
    actions.required = True
    defaults = LabPorts()

    up = actions.add_parser("up", help="bring the lab up (idempotent) and wait until /ready is 200")
    _lab_dir_option(up)
    up.add_argument("--runtime", choices=RUNTIMES, default="process",
                    help="process: everything as local processes; docker: Redis and Postgres as containers")
    up.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE,
                    help="timing profile: aitrapp (TTL 30s, refresh 10s, as the real service) or fast")
    up.add_argument("--defect", action="append", default=[], metavar="NAME",
                    help=f"start with a defect on purpose (repeatable): {', '.join(sorted(KNOWN_DEFECTS))}")
    up.add_argument("--api-port", type=int, default=defaults.trader, help="trader API port")
    up.add_argument("--broker-port", type=int, default=defaults.broker, help="broker simulator port")
    up.add_argument("--redis-port", type=int, default=defaults.redis, help="Redis port")
    up.add_argument("--postgres-port", type=int, default=defaults.postgres, help="Postgres port")
    up.add_argument("--redis-image", default=DEFAULT_IMAGES["redis"], help="Redis image (docker runtime)")
    up.add_argument("--postgres-image", default=DEFAULT_IMAGES["postgres"], help="Postgres image (docker runtime)")
    up.add_argument("--mode", choices=("PAPER", "LIVE"), default="PAPER", help="trader mode at start")
    up.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for /ready 200")

    down = actions.add_parser("down", help="stop every lab process (verified by pid)")
    _lab_dir_option(down)
    status = actions.add_parser("status", help="what runs, as JSON")
    _lab_dir_option(status)
    logs = actions.add_parser("logs", help="the last lines of one service's log")
    _lab_dir_option(logs)
    logs.add_argument("service", choices=("redis", "postgres", "broker", "trader"))
    logs.add_argument("-n", "--lines", type=int, default=50)
    lab.set_defaults(func=run_lab)
    return lab


def run_lab(args: argparse.Namespace) -> int:
    """Execute the parsed ``lab`` command; the process exit code (errors printed, never a secret)."""
    from chaosaitrapp.lab.runtime import lab_down, lab_logs, lab_status, lab_up

    directory = Path(args.lab_dir) if args.lab_dir else default_lab_dir()
    try:
        if args.lab_action == "up":
            config = LabConfig(
                lab_dir=directory, runtime=args.runtime, profile=args.profile, defects=list(args.defect),
                ports=LabPorts(trader=args.api_port, broker=args.broker_port, redis=args.redis_port,
                               postgres=args.postgres_port),
                api_key=os.environ.get("API_SECRET_KEY") or None, mode=args.mode,
                images={"redis": args.redis_image, "postgres": args.postgres_image},
                ready_timeout=args.ready_timeout,
            )
            started = time.monotonic()
            state = lab_up(config)
            took = time.monotonic() - started
            defects = ", ".join(state.defects) or "none"
            print(f"lab up in {took:.1f}s: API {state.api} (profile {state.profile}, runtime {state.runtime}, "
                  f"defects {defects}, lab dir {directory})")
            return 0
        if args.lab_action == "down":
            lab_down(directory)
            print(f"lab down: no lab process left in {directory}")
            return 0
        if args.lab_action == "status":
            status = lab_status(directory)
            print(json.dumps(status, indent=2, sort_keys=True, default=str))
            return 0 if status.get("up") else 3
        if args.lab_action == "logs":
            sys.stdout.write(lab_logs(directory, args.service, args.lines))
            return 0
    except (ChaosAitrappError, ValueError) as exc:
        print(f"aitrapp-chaos lab {args.lab_action}: {exc}", file=sys.stderr)
        return 2
    return 2


def main(argv: Optional[List[str]] = None) -> int:
    """Standalone entry: ``python -m chaosaitrapp.lab.cli up|down|status|logs ...``."""
    parser = argparse.ArgumentParser(prog="python -m chaosaitrapp.lab.cli")
    sub = parser.add_subparsers(dest="command")
    add_lab_parser(sub)
    args = parser.parse_args(["lab", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
