"""CI outputs for a set of drill runs: JUnit XML and a JSON summary.

A run is a dict ``{"drill", "verdict", "reasons", "duration", "report", "journal", "log"}``.
JUnit: one ``<testcase name=drill classname="chaosaitrapp.drills" time=duration>`` per run; a
FAIL run carries a ``<failure>`` whose message is the first reason and whose text lists them all;
a DRY run (``chaos run --dry``: nothing injected, nothing judged) and a SKIP run (not applicable to the
deployment: the reason says what it lacks and how to provide it) are ``<skipped>``;
``<system-out>`` lists the evidence paths. Both files are scrubbed of ``secrets``.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Sequence, Union

from chaosaitrapp.report.page import write_text_atomic
from chaosaitrapp.scrub import scrub_data, scrub_text
from chaosaitrapp.verdict import suite_verdict

CLASSNAME = "chaosaitrapp.drills"
EVIDENCE_KEYS = ("report", "journal", "log", "timeline")


def _duration(run: Dict[str, Any]) -> float:
    value = run.get("duration")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _reasons(run: Dict[str, Any]) -> List[str]:
    reasons = run.get("reasons") or []
    return [str(r) for r in (reasons if isinstance(reasons, (list, tuple)) else [reasons])]


def junit_tree(runs: Sequence[Dict[str, Any]], suite_name: str = "chaosaitrapp") -> ET.ElementTree:
    """The JUnit document as an ElementTree (``<testsuites>`` with one ``<testsuite>``)."""
    failures = sum(1 for r in runs if r.get("verdict") not in ("PASS", "DRY", "SKIP"))
    skipped = sum(1 for r in runs if r.get("verdict") in ("DRY", "SKIP"))
    total = sum(_duration(r) for r in runs)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    root = ET.Element("testsuites", name=suite_name, tests=str(len(runs)), failures=str(failures),
                      errors="0", skipped=str(skipped), time=f"{total:.3f}")
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(runs)), failures=str(failures),
                          errors="0", skipped=str(skipped), time=f"{total:.3f}", timestamp=stamp)
    for run in runs:
        case = ET.SubElement(suite, "testcase", name=str(run.get("drill") or "?"), classname=CLASSNAME,
                             time=f"{_duration(run):.3f}")
        verdict = run.get("verdict")
        if verdict == "DRY":
            ET.SubElement(case, "skipped", message="dry run: nothing was injected, nothing was judged")
        elif verdict == "SKIP":
            ET.SubElement(case, "skipped", message=("; ".join(_reasons(run)) or "not applicable")[:500])
        elif verdict != "PASS":
            reasons = _reasons(run) or [f"verdict {verdict!r}"]
            node = ET.SubElement(case, "failure", message=reasons[0][:500], type="DrillFailed")
            node.text = "\n".join(f"- {r}" for r in reasons)
        evidence = [f"{key}: {run[key]}" for key in EVIDENCE_KEYS if run.get(key)]
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join([f"verdict: {verdict}"] + evidence)
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(runs: Sequence[Dict[str, Any]], path: Union[str, Path], suite_name: str = "chaosaitrapp", *,
                secrets: Sequence[str] = ()) -> Path:
    """Write the JUnit XML for ``runs`` to ``path`` (atomically); returns the path."""
    runs = scrub_data(list(runs), secrets)
    text = ET.tostring(junit_tree(runs, suite_name).getroot(), encoding="unicode", xml_declaration=True)
    return write_text_atomic(path, scrub_text(text, secrets) + "\n")


def summary(runs: Sequence[Dict[str, Any]], suite_name: str = "chaosaitrapp") -> Dict[str, Any]:
    """``{"suite", "verdict", "total", "passed", "dry", "failed", "generated", "runs"}`` for ``runs``."""
    passed = sum(1 for r in runs if r.get("verdict") == "PASS")
    dry = sum(1 for r in runs if r.get("verdict") == "DRY")
    skipped = sum(1 for r in runs if r.get("verdict") == "SKIP")
    return {
        "suite": suite_name,
        "verdict": suite_verdict(runs),
        "total": len(runs),
        "passed": passed,
        "dry": dry,
        "skipped": skipped,
        "failed": len(runs) - passed - dry - skipped,
        "generated": datetime.now(timezone.utc).isoformat(),
        "runs": [{"drill": r.get("drill"), "verdict": r.get("verdict"), "reasons": _reasons(r),
                  "duration": r.get("duration"), **{k: r.get(k) for k in EVIDENCE_KEYS if k in r}} for r in runs],
    }


def write_summary_json(runs: Sequence[Dict[str, Any]], path: Union[str, Path], *,
                       suite_name: str = "chaosaitrapp", secrets: Sequence[str] = ()) -> Path:
    """Write :func:`summary` as indented JSON to ``path`` (atomically); returns the path."""
    data = scrub_data(summary(list(runs), suite_name), secrets)
    return write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")
