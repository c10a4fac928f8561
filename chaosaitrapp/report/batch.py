"""Reports for one journal or a folder of journals, plus the suite index and CI outputs.

The body of ``aitrapp-chaos report JOURNAL_OR_DIR``: :func:`build_reports` writes one drill
report per journal, then ``index.html``, ``junit.xml`` and ``summary.json`` beside them.
A journal is any ``*.json`` file holding a Chaos Toolkit journal (an object with ``experiment``
and ``status``); other JSON files in the folder are ignored.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from chaosaitrapp.checks import TimelineError, load_timeline
from chaosaitrapp.report.html import assess, find_extension, resolve_evidence_path, write_drill_report
from chaosaitrapp.report.junit import write_junit, write_summary_json
from chaosaitrapp.report.suite import render_suite_index, suite_verdict


def is_journal(data: Any) -> bool:
    """True for a Chaos Toolkit journal: a dict with ``experiment`` and ``status``."""
    return isinstance(data, dict) and "experiment" in data and "status" in data


def find_journals(journal_or_dir: Union[str, Path]) -> List[Path]:
    """The journal files at ``journal_or_dir`` (a file, or a folder searched non-recursively), by name."""
    path = Path(journal_or_dir)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no journal or folder at {path}")
    found = []
    for candidate in sorted(path.glob("*.json")):
        try:
            if is_journal(json.loads(candidate.read_text(encoding="utf-8"))):
                found.append(candidate)
        except (OSError, ValueError):
            continue
    return found


def report_path_for(journal_path: Path, drill: str, out_dir: Path) -> Path:
    """``<out_dir>/<journal stem without .journal>.html``; ``<drill>.html`` for a bare ``journal.json``."""
    stem = journal_path.name[: -len(".json")] if journal_path.name.endswith(".json") else journal_path.stem
    stem = stem[: -len(".journal")] if stem.endswith(".journal") else stem
    return out_dir / f"{drill if stem == 'journal' else stem}.html"


def run_from_journal(journal_path: Union[str, Path], *, out_dir: Optional[Union[str, Path]] = None,
                     secrets: Sequence[str] = ()) -> Dict[str, Any]:
    """Write the drill report for one journal and return its run dict
    ``{"drill", "verdict", "reasons", "duration", "report", "journal", "log"}``."""
    journal_path = Path(journal_path)
    journal = json.loads(journal_path.read_text(encoding="utf-8"))
    ext = find_extension(journal) or {}
    evidence = ext.get("evidence") if isinstance(ext.get("evidence"), dict) else {}
    timeline = None
    if evidence.get("timeline"):
        try:
            timeline = load_timeline(resolve_evidence_path(evidence["timeline"], journal_path.parent))
        except (OSError, TimelineError):
            timeline = None
    verdict, checks, reasons, _ = assess(journal, timeline)
    drill = str(ext.get("drill") or (timeline.drill if timeline else None) or journal_path.stem)
    target = report_path_for(journal_path, drill, Path(out_dir) if out_dir else journal_path.parent)
    report = write_drill_report(journal_path, None, target, secrets=secrets)
    if not reasons:
        reasons = [f"{c.name}: {c.reason}" for c in checks if c.status != "pass"]
    duration = journal.get("duration")
    log = evidence.get("log")
    return {"drill": drill, "verdict": "PASS" if verdict == "PASS" else "FAIL", "reasons": reasons,
            "duration": duration if isinstance(duration, (int, float)) else None, "report": str(report),
            "journal": str(journal_path), "log": str(resolve_evidence_path(log, journal_path.parent)) if log else None}


def build_reports(journal_or_dir: Union[str, Path], *, out_dir: Optional[Union[str, Path]] = None,
                  secrets: Sequence[str] = (), suite_name: str = "chaosaitrapp") -> Dict[str, Any]:
    """Reports for every journal at ``journal_or_dir`` into ``out_dir`` (default: the journals'
    folder), then ``index.html``, ``junit.xml`` and ``summary.json`` there.

    Returns ``{"verdict": "PASS"|"FAIL", "runs": [run dicts], "index", "junit", "summary"}``
    (paths as strings). No journal found gives verdict FAIL with no runs.
    """
    journals = find_journals(journal_or_dir)
    base = Path(journal_or_dir)
    folder = Path(out_dir) if out_dir else (base if base.is_dir() else base.parent)
    runs = [run_from_journal(j, out_dir=folder, secrets=secrets) for j in journals]
    index = render_suite_index(runs, folder / "index.html", secrets=secrets, title=f"{suite_name} drills")
    junit = write_junit(runs, folder / "junit.xml", suite_name, secrets=secrets)
    summary = write_summary_json(runs, folder / "summary.json", suite_name=suite_name, secrets=secrets)
    return {"verdict": suite_verdict(runs), "runs": runs, "index": str(index), "junit": str(junit),
            "summary": str(summary)}
