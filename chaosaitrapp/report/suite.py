"""The suite index: one page linking every drill report with its verdict and reasons.

A run is a dict ``{"drill", "verdict", "reasons", "duration", "report", "journal", "log"}``
(paths may be absent or None); the same dicts feed :mod:`chaosaitrapp.report.junit`.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Sequence, Union

from chaosaitrapp import __version__
from chaosaitrapp.report.page import badge, esc, href_to, page, seconds, write_text_atomic
from chaosaitrapp.verdict import suite_verdict


def _reasons(run: Dict[str, Any]) -> List[str]:
    reasons = run.get("reasons") or []
    return [str(r) for r in (reasons if isinstance(reasons, (list, tuple)) else [reasons])]


def render_suite_index_html(runs: Sequence[Dict[str, Any]], base_dir: Path, *, secrets: Sequence[str] = (),
                            title: str = "chaosaitrapp drills") -> str:
    """The index page as HTML; links are relative to ``base_dir`` (the page's folder)."""
    verdict = suite_verdict(runs)
    passed = sum(1 for r in runs if r.get("verdict") == "PASS")
    rows = []
    for run in runs:
        links = []
        for key in ("report", "journal", "log"):
            if run.get(key):
                href = href_to(run[key], base_dir)
                links.append(f'<a href="{esc(href)}">{key}</a>' if href else f"<code>{esc(run[key])}</code>")
        reasons = _reasons(run)
        reason_html = ("<ul style=\"margin:0;padding-left:18px\">" + "".join(f"<li>{esc(r)}</li>" for r in reasons)
                       + "</ul>") if reasons else '<span class="muted">-</span>'
        name = esc(run.get("drill") or "?")
        if run.get("report") and href_to(run["report"], base_dir):
            name = f'<a href="{esc(href_to(run["report"], base_dir))}">{name}</a>'
        run_verdict = str(run.get("verdict") or "UNKNOWN")
        rows.append(f"<tr><td><b>{name}</b></td><td>{badge({'PASS': 'pass', 'FAIL': 'fail'}.get(run_verdict, run_verdict.lower()))}</td>"
                    f"<td class=\"num\">{seconds(run.get('duration'))}</td><td>{reason_html}</td>"
                    f"<td>{' · '.join(links) or '-'}</td></tr>")
    css = {"PASS": "pass", "FAIL": "fail"}.get(verdict, "unknown")
    body = (
        f'<header class="verdict {css}"><div class="big">{verdict}</div><div><div class="what">{esc(title)}</div>'
        f'<div class="facts">{passed} of {len(runs)} drill(s) passed</div></div></header>'
        f'<section><h2>Drills</h2><table><thead><tr><th>drill</th><th>verdict</th><th>duration</th><th>reasons</th>'
        f'<th>evidence</th></tr></thead><tbody>{"".join(rows) or "<tr><td colspan=5>no drill ran</td></tr>"}'
        f'</tbody></table></section>'
        f"<footer>chaosaitrapp {esc(__version__)} · generated "
        f"{esc(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC'))}</footer>"
    )
    return page(f"{verdict} · {title}", body, secrets)


def render_suite_index(runs: Sequence[Dict[str, Any]], out_path: Union[str, Path], *,
                       secrets: Sequence[str] = (), title: str = "chaosaitrapp drills") -> Path:
    """Write the index page to ``out_path`` (links relative to its folder); returns the path."""
    out = Path(out_path)
    return write_text_atomic(out, render_suite_index_html(runs, out.parent, secrets=secrets, title=title))
