"""``aitrapp-chaos report JOURNAL_OR_DIR``: (re)build HTML reports from recorded evidence.

A journal gives its drill report (the timeline found through the journal's ``chaosaitrapp``
extension); a directory gives a report for every journal in it plus ``index.html``,
``junit.xml`` and ``summary.json`` (see :func:`chaosaitrapp.report.batch.build_reports`).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

from chaosaitrapp.config import known_secrets


def report_main(target: str, out: Optional[str] = None) -> int:
    """CLI body: 0 when the report(s) were written, 2 on bad input."""
    from chaosaitrapp.report.batch import build_reports, run_from_journal

    path = Path(target)
    if not path.exists():
        print(f"aitrapp-chaos report: {path} does not exist", file=sys.stderr)
        return 2
    try:
        if path.is_dir():
            result = build_reports(path, out_dir=out, secrets=known_secrets())
            if not result["runs"]:
                print(f"aitrapp-chaos report: no Chaos Toolkit journal in {path}", file=sys.stderr)
                return 2
            print(f"{len(result['runs'])} drill report(s), {result['verdict']}; index {result['index']}; "
                  f"JUnit {result['junit']}")
            return 0
        run = run_from_journal(path, out_dir=out, secrets=known_secrets())
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        print(f"aitrapp-chaos report: {path} is not a Chaos Toolkit journal: {exc}", file=sys.stderr)
        return 2
    print(f"{run['drill']}: {run['verdict']}; report {run['report']}")
    return 0
