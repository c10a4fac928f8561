"""``aitrapp-chaos``: the lab, the drills, reports and cleanup from one command.

    aitrapp-chaos lab up|down|status|logs     the reference target (see ``lab --help``)
    aitrapp-chaos run [DRILL ...]             run drills with chaos run; JUnit + summary + index page
    aitrapp-chaos report JOURNAL_OR_DIR       the self-contained HTML report of a drill (or a directory)
    aitrapp-chaos cleanup                     undo every fault left in the ledger
    aitrapp-chaos docs                        the activity reference (markdown) from the docstrings
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from chaosaitrapp import __version__


def _cmd_run(args: argparse.Namespace) -> int:
    from chaosaitrapp.suite import DRILLS, run_suite

    drills = args.drills or list(DRILLS)
    unknown = [d for d in drills if not (Path(args.experiments) / f"{d}.json").exists()]
    if unknown:
        print(f"aitrapp-chaos run: unknown drill(s) {unknown}; known: {', '.join(DRILLS)}", file=sys.stderr)
        return 2
    extra = ["--dry", args.dry] if args.dry else []
    result = run_suite(drills, Path(args.experiments), Path(args.out) if args.out else None, extra)
    return 0 if result["verdict"] == "PASS" else 1


def _cmd_report(args: argparse.Namespace) -> int:
    from chaosaitrapp.report.command import report_main

    return report_main(args.path, args.out)


def _cmd_cleanup(args: argparse.Namespace) -> int:
    from chaosaitrapp.safety.cleanup import cleanup_main

    return cleanup_main([])


def _cmd_docs(args: argparse.Namespace) -> int:
    from chaosaitrapp.docs import activity_reference

    text = activity_reference()
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands lab, run, report, cleanup, docs)."""
    parser = argparse.ArgumentParser(prog="aitrapp-chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"chaosaitrapp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    from chaosaitrapp.lab.cli import add_lab_parser

    add_lab_parser(sub)
    run = sub.add_parser("run", help="run drills (default: all three seed drills)")
    run.add_argument("drills", nargs="*", help="leader_lock, postgres_blip, rate_limit_spike")
    run.add_argument("--experiments", default="experiments", help="directory of <drill>.json")
    run.add_argument("--out", default=None, help="evidence directory (default reports/chaos)")
    run.add_argument("--dry", default=None, choices=["probes", "actions", "activities", "pause"],
                     help="chaos run --dry: inject nothing")
    run.set_defaults(func=_cmd_run)
    report = sub.add_parser("report", help="HTML report of a drill journal, or of every journal in a directory")
    report.add_argument("path")
    report.add_argument("--out", default=None)
    report.set_defaults(func=_cmd_report)
    cleanup = sub.add_parser("cleanup", help="undo every outstanding fault in the ledger")
    cleanup.set_defaults(func=_cmd_cleanup)
    docs = sub.add_parser("docs", help="print the activity reference generated from docstrings")
    docs.add_argument("--out", default=None)
    docs.set_defaults(func=_cmd_docs)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``aitrapp-chaos``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
