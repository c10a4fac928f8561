"""``aitrapp-chaos report JOURNAL_OR_DIR``: (re)build HTML reports from recorded evidence.

A journal file gives one drill report (the timeline is found through the journal's
``chaosaitrapp`` extension); a directory gives a report for every ``*.journal.json`` in it
plus one index page linking them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

from chaosaitrapp.config import known_secrets


def _extension(journal: dict) -> Dict:
    return next((e for e in journal.get("extensions", []) if e.get("name") == "chaosaitrapp"), {})


def report_for_journal(path: Path, out: Optional[Path] = None) -> Dict[str, object]:
    """Write the HTML report of one journal; returns the suite-index run dict."""
    from chaosaitrapp.report.html import write_drill_report

    journal = json.loads(path.read_text())
    ext = _extension(journal)
    timeline = ext.get("evidence", {}).get("timeline")
    timeline_path = Path(timeline) if timeline and Path(timeline).exists() else None
    if out is None:
        name = path.name.replace(".journal.json", "").replace(".json", "")
        out = path.with_name(name + ".html")
    write_drill_report(journal, timeline_path, out, secrets=known_secrets())
    return {"drill": ext.get("drill", path.stem), "verdict": ext.get("verdict", "FAIL"),
            "reasons": ext.get("reasons", ["no chaosaitrapp verdict in this journal"]),
            "duration": journal.get("duration"), "report": str(out), "journal": str(path),
            "log": ext.get("evidence", {}).get("log")}


def report_main(target: str, out: Optional[str] = None) -> int:
    """CLI body: 0 when the report(s) were written, 2 on bad input."""
    from chaosaitrapp.report.html import render_suite_index

    path = Path(target)
    if path.is_dir():
        journals = sorted(path.glob("*.journal.json"))
        if not journals:
            print(f"aitrapp-chaos report: no *.journal.json in {path}", file=sys.stderr)
            return 2
        runs: List[Dict[str, object]] = [report_for_journal(j) for j in journals]
        index = render_suite_index(runs, Path(out) if out else path / "index.html")
        print(f"{len(runs)} drill report(s); index {index}")
        return 0
    if not path.exists():
        print(f"aitrapp-chaos report: {path} does not exist", file=sys.stderr)
        return 2
    try:
        run = report_for_journal(path, Path(out) if out else None)
    except (ValueError, KeyError) as exc:
        print(f"aitrapp-chaos report: {path} is not a Chaos Toolkit journal: {exc}", file=sys.stderr)
        return 2
    print(f"{run['drill']}: {run['verdict']}; report {run['report']}")
    return 0
