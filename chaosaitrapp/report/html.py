"""The drill report: one self-contained HTML file per drill, from its journal and timeline.

Reading order: the verdict (big PASS / FAIL / DRY), and for a FAIL the failing checks and reasons;
the run's facts (strategies, sampling rate, notes); the checks' table; the timeline chart; the
steady-state probes (before, during, after); the method's activities; the rollbacks; the
seed-format log fields; the evidence files. Verdict, checks, seed fields and evidence are exactly
what the evidence control recorded in the journal's ``chaosaitrapp`` extension
(:func:`chaosaitrapp.verdict.recorded`): the report shows the checks that decided the verdict and
judges nothing itself. A journal without the extension is reported FAIL, saying why.

Nothing is fetched: CSS inline, the chart an inline SVG, no script. The final HTML is scrubbed
of ``secrets``, API-key values and URL passwords, and URLs in it are defanged.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from chaosaitrapp import __version__
from chaosaitrapp.checks import (
    CheckResult,
    Limits,
    Timeline,
    TimelineError,
    combine,
    load_timeline,
    not_passed,
    recovery_marks,
)
from chaosaitrapp.report.chart import (
    BAD,
    FAULT,
    GOOD,
    HEARTBEAT_COLORS,
    HEARTBEAT_NAMES,
    LIMIT_COLOR,
    MARK_MEASURE,
    NODATA,
    QUEUE_COLOR,
    has_queue_panel,
    render_timeline_svg,
)
from chaosaitrapp.report.page import badge, esc, href_to, page, seconds, short, write_text_atomic
from chaosaitrapp.scrub import scrub_data
from chaosaitrapp.verdict import extension as find_extension
from chaosaitrapp.verdict import recorded


def _drill_name(journal: Dict[str, Any], ext: Dict[str, Any], timeline: Optional[Timeline]) -> str:
    experiment = journal.get("experiment") if isinstance(journal.get("experiment"), dict) else {}
    return str(ext.get("drill") or (timeline.drill if timeline else None) or experiment.get("title") or "drill")


def assess(journal: Dict[str, Any]) -> Tuple[str, List[CheckResult], List[str]]:
    """``(verdict, checks, reasons)`` as recorded in ``journal`` (:func:`chaosaitrapp.verdict.recorded`)."""
    verdict, checks, reasons = recorded(journal)
    return verdict, [CheckResult.from_dict(c) for c in checks], reasons


# ---- sections ---------------------------------------------------------------------------------

def _header(verdict: str, drill: str, journal: Dict[str, Any]) -> str:
    css = {"PASS": "pass", "FAIL": "fail", "SKIP": "skip"}.get(verdict, "unknown")
    status = journal.get("status") or "unknown"
    deviated = " (deviated)" if journal.get("deviated") else ""
    facts = (f"started {esc(journal.get('start') or '?')} · duration {seconds(journal.get('duration'))} · "
             f"Chaos Toolkit: {esc(status)}{esc(deviated)}")
    return (f'<header class="verdict {css}" id="verdict"><div class="big">{esc(verdict)}</div>'
            f'<div><div class="what">{esc(drill)} <span style="font-weight:400">drill</span></div>'
            f'<div class="facts">{facts}</div></div></header>')


def _why(verdict: str, checks: Sequence[CheckResult], reasons: Sequence[str]) -> str:
    if verdict in ("PASS", "DRY"):
        return ""
    if verdict == "SKIP":
        items = "".join(f"<li>{esc(r)}</li>" for r in reasons) or "<li>not applicable</li>"
        return f'<section class="why unknown" id="why"><h2>Not applicable here</h2><ul>{items}</ul></section>'
    failing = not_passed(checks)
    items = [f"<li>{badge(c.status)} <b>{esc(c.name)}</b>: {esc(c.reason)}</li>" for c in failing]
    names = {c.name for c in failing}
    # the verdict's own wording of a failing check ("check NAME failed: ...") is already listed above
    others = [r for r in reasons if not any(r.startswith(n) or r.startswith(f"check {n} ") for n in names)]
    items += [f"<li>{esc(r)}</li>" for r in others]
    if not items:
        items = ["<li>no reason was recorded</li>"]
    css = "why" if verdict == "FAIL" else "why unknown"
    return f'<section class="{css}" id="why"><h2>Why it is {esc(verdict)}</h2><ul>{"".join(items)}</ul></section>'


def _facts(journal: Dict[str, Any], drill: str, timeline: Optional[Timeline], notes: Sequence[str]) -> str:
    experiment = journal.get("experiment") if isinstance(journal.get("experiment"), dict) else {}
    ext = find_extension(journal) or {}
    rows: List[Tuple[str, str]] = [
        ("Drill", esc(drill)),
        ("Experiment", esc(experiment.get("title") or "-")),
        ("Started", esc(journal.get("start") or "-")),
        ("Ended", esc(journal.get("end") or "-")),
        ("Duration", seconds(journal.get("duration"))),
        ("Chaos Toolkit status", f"{esc(journal.get('status') or '-')}"
                                 f"{' · deviated' if journal.get('deviated') else ' · not deviated'}"),
    ]
    if timeline is not None:
        rate = ""
        if timeline.duration > 0 and timeline.samples:
            rate = f" · {len(timeline.samples) / timeline.duration:.1f} samples/s"
        state = " · <b>truncated</b> (the run was killed while recording)" if timeline.truncated else ""
        if timeline.end is None and not timeline.truncated:
            state = " · no end record (the sampler did not stop cleanly)"
        rows.append(("Timeline", f"{len(timeline.samples)} samples over {seconds(timeline.duration)}{rate}"
                                 f" · {len(timeline.events)} events{state}"))
    else:
        rows.append(("Timeline", "none"))
    strategies = ext.get("strategies") if isinstance(ext.get("strategies"), dict) else {}
    if strategies:
        rows.append(("Strategies", f"rollbacks {esc(strategies.get('rollbacks'))} · hypothesis "
                                   f"{esc(strategies.get('hypothesis'))}"))
    for note in list(ext.get("notes") or []) + list(notes):
        rows.append(("Note", esc(note)))
    cells = "".join(f"<div>{k}</div><div>{v}</div>" for k, v in rows)
    return f'<section id="facts"><h2>Run</h2><div class="facts-grid">{cells}</div></section>'


def _checks_table(checks: Sequence[CheckResult]) -> str:
    if not checks:
        return '<section id="checks"><h2>Checks</h2><p class="muted">No checks recorded.</p></section>'
    rows = "".join(
        f"<tr><td>{badge(c.status)}</td><td><code>{esc(c.name)}</code></td>"
        f"<td class=\"num\">{'-' if c.value is None else esc(f'{c.value:g}')}</td>"
        f"<td class=\"num\">{'-' if c.limit is None else esc(f'{c.limit:g}')}</td><td>{esc(c.reason)}</td></tr>"
        for c in checks)
    return (f'<section id="checks"><h2>Checks <span class="muted small">(the ones that decided the verdict; '
            f'combined: {esc(combine(checks))})</span></h2><table><thead><tr><th>status</th><th>checker</th><th>value</th>'
            f'<th>limit</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _swatch(colour: str, label: str, line: bool = False) -> str:
    return f'<span><span class="sw{" line" if line else ""}" style="background:{colour}"></span>{esc(label)}</span>'


def _chart(timeline: Optional[Timeline], checks: Sequence[CheckResult]) -> str:
    if timeline is None:
        return '<section id="timeline"><h2>Timeline</h2><p class="muted">No timeline was recorded.</p></section>'
    if not timeline.samples:
        return '<section id="timeline"><h2>Timeline</h2><p class="muted">The timeline has no samples.</p></section>'
    limits = Limits.from_meta(timeline.meta)
    marks = recovery_marks(timeline, limits)
    svg = render_timeline_svg(timeline, marks, heartbeat_max=limits.heartbeat_max,
                              max_gap=limits.max_sample_gap_s, checks=checks)
    figures = []
    for label, key, rel in (("fault", "fault", None), ("not ready", "detect_s", "fault"),
                            ("paused", "detect_pause_s", "fault"), ("restored", "restore", None),
                            ("ready again", "recover_s", "restore"), ("resumed", "recover_resume_s", "restore")):
        value = marks.get(key)
        if value is None:
            continue
        text = f"+{value:.2f} s after {rel}" if rel else f"t = {value:.2f} s"
        figures.append(f"<span>{esc(label)}: <b>{esc(text)}</b></span>")
    for check in checks:
        if check.name == "queue_drained" and check.value is not None:
            figures.append(f"<span>queue drained: <b>+{check.value:.2f} s after burst</b></span>")
    legend = "".join([
        _swatch(GOOD, "ready / leader / running"), _swatch(BAD, "not ready / not leader / paused"),
        _swatch(NODATA, "no data"),
        _swatch(FAULT, "fault held (fault → restored)") if any(w[1] is not None for w in marks["windows"]) else "",
        *(_swatch(c, f"{HEARTBEAT_NAMES[f]} heartbeat age", True) for f, c in HEARTBEAT_COLORS.items()),
        _swatch(LIMIT_COLOR, "heartbeat_max", True),
        _swatch(QUEUE_COLOR, "throttle queue depth", True) if has_queue_panel(timeline) else "",
        _swatch(MARK_MEASURE, "measured instants (dashed)", True),
    ])
    return (f'<section id="timeline"><h2>Timeline</h2><div class="figures">{"".join(figures)}</div>{svg}'
            f'<div class="legend">{legend}</div></section>')


def _activity_rows(runs: Iterable[Dict[str, Any]], with_tolerance: bool) -> str:
    rows = []
    for run in runs:
        if not isinstance(run, dict):
            continue
        activity = run.get("activity") if isinstance(run.get("activity"), dict) else {}
        status = run.get("status") or "-"
        status_css = "pass" if status == "succeeded" else ("fail" if status == "failed" else "unknown")
        exception = run.get("exception")
        if isinstance(exception, list) and exception:
            detail = "error: " + short("".join(exception).strip().splitlines()[-1], 240)
        else:
            detail = short(run.get("output"))
        cells = [f"<td><code>{esc(activity.get('name') or '?')}</code></td>",
                 f"<td>{esc(activity.get('type') or '-')}</td>",
                 f'<td><span class="badge {status_css}">{esc(status)}</span></td>']
        if with_tolerance:
            met = run.get("tolerance_met")
            met_html = badge("pass" if met is True else ("fail" if met is False else "unknown"))
            cells.append(f"<td>{met_html}</td><td><code>{esc(short(activity.get('tolerance'), 80))}</code></td>")
        cells.append(f'<td class="num">{seconds(run.get("duration"))}</td><td class="out"><code>{esc(detail)}</code></td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(rows)


def _steady_states(journal: Dict[str, Any]) -> str:
    states = journal.get("steady_states") if isinstance(journal.get("steady_states"), dict) else {}
    blocks = []
    phases: List[Tuple[str, Any]] = [("before", states.get("before"))]
    during = states.get("during")
    if isinstance(during, list):
        phases += [(f"during #{i + 1}", s) for i, s in enumerate(during)]
    elif isinstance(during, dict):
        phases.append(("during", during))
    phases.append(("after", states.get("after")))
    head = ('<colgroup><col class="name"><col class="type"><col class="status"><col class="met"><col class="tol">'
            '<col class="dur"><col></colgroup>'
            "<thead><tr><th>probe</th><th>type</th><th>status</th><th>tolerance met</th><th>tolerance</th>"
            "<th>duration</th><th>value</th></tr></thead>")
    for label, state in phases:
        if not isinstance(state, dict):
            if not label.startswith("during"):
                blocks.append(f"<h3>{esc(label)}</h3><p class=\"muted small\">not run</p>")
            continue
        met = state.get("steady_state_met")
        met_html = badge("pass" if met is True else ("fail" if met is False else "unknown"))
        rows = _activity_rows(state.get("probes") or [], with_tolerance=True)
        blocks.append(f'<h3>{esc(label)} {met_html}</h3><table class="acts">{head}<tbody>{rows}</tbody></table>')
    return f'<section id="steady-state"><h2>Steady state</h2>{"".join(blocks)}</section>'


def _activities(journal: Dict[str, Any], key: str, title: str) -> str:
    runs = journal.get(key) or []
    if not runs:
        return f'<section id="{key}"><h2>{esc(title)}</h2><p class="muted small">none</p></section>'
    head = ('<colgroup><col class="name"><col class="type"><col class="status"><col class="dur"><col></colgroup>'
            "<thead><tr><th>activity</th><th>type</th><th>status</th><th>duration</th><th>output</th></tr></thead>")
    return (f'<section id="{key}"><h2>{esc(title)}</h2><table class="acts">{head}<tbody>'
            f'{_activity_rows(runs, with_tolerance=False)}</tbody></table></section>')


def _seed_fields(ext: Dict[str, Any]) -> str:
    fields = ext.get("seed_fields")
    if not isinstance(fields, dict) or not fields:
        return '<section id="seed"><h2>Seed log fields</h2><p class="muted small">none recorded</p></section>'
    rows = "".join(f"<tr><td><code>{esc(k)}</code></td><td><code>{esc(v)}</code></td></tr>" for k, v in fields.items())
    return (f'<section id="seed"><h2>Seed log fields <span class="muted small">(the original scripts\' '
            f'key,value format)</span></h2><table class="kv"><colgroup><col class="key"><col></colgroup><thead><tr><th>key</th><th>value</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></section>')


def _evidence(ext: Dict[str, Any], link_base: Optional[Path]) -> str:
    evidence = ext.get("evidence")
    if not isinstance(evidence, dict) or not evidence:
        return ""
    rows = []
    for key, path in evidence.items():
        if not path:
            continue
        href = href_to(path, link_base)
        shown = f'<a href="{esc(href)}"><code>{esc(path)}</code></a>' if href else f"<code>{esc(path)}</code>"
        rows.append(f"<tr><td>{esc(key)}</td><td>{shown}</td></tr>")
    return (f'<section id="evidence"><h2>Evidence files</h2><table class="kv"><colgroup><col class="key"><col>'
            f'</colgroup><tbody>{"".join(rows)}</tbody></table>'
            f'</section>')


# ---- public API ---------------------------------------------------------------------------------

def render_drill_report(
    journal: Dict[str, Any],
    timeline: Optional[Timeline],
    *,
    secrets: Sequence[str] = (),
    link_base: Optional[Path] = None,
    notes: Sequence[str] = (),
) -> str:
    """The drill report as one self-contained HTML string.

    ``journal`` is a Chaos Toolkit journal (with or without the ``chaosaitrapp`` extension),
    ``timeline`` the drill's timeline or None. ``secrets`` are scrubbed from the output (with
    API-key values and URL passwords); ``link_base`` (the report's folder) turns evidence paths
    into relative links; ``notes`` are shown among the run's facts.
    """
    secrets = [s for s in secrets if s]
    journal = scrub_data(journal, secrets)
    ext = find_extension(journal) or {}
    verdict, checks, reasons = assess(journal)
    drill = _drill_name(journal, ext, timeline)
    body = "\n".join([
        _header(verdict, drill, journal),
        _why(verdict, checks, reasons),
        _facts(journal, drill, timeline, notes),
        _checks_table(checks),
        _chart(timeline, checks),
        _steady_states(journal),
        _activities(journal, "run", "Method"),
        _activities(journal, "rollbacks", "Rollbacks"),
        _seed_fields(ext),
        _evidence(ext, link_base),
        f"<footer>chaosaitrapp {esc(__version__)} · report generated "
        f"{esc(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC'))}</footer>",
    ])
    return page(f"{verdict} · {drill} · chaosaitrapp", body, secrets)


def resolve_evidence_path(path: Union[str, Path], near: Optional[Path]) -> Path:
    """``path`` as given when it exists (absolute or relative to the cwd), else next to ``near``."""
    candidate = Path(path)
    if candidate.exists() or candidate.is_absolute() or near is None:
        return candidate
    beside = near / candidate
    if beside.exists():
        return beside
    by_name = near / candidate.name
    return by_name if by_name.exists() else candidate


def write_drill_report(
    journal_path_or_dict: Union[str, Path, Dict[str, Any]],
    timeline_path: Union[str, Path, None],
    out_path: Union[str, Path],
    secrets: Sequence[str] = (),
) -> Path:
    """Render and write the drill report to ``out_path`` (atomically); returns the path.

    ``journal_path_or_dict``: a journal dict or a path to ``journal.json``. ``timeline_path``:
    the timeline file, or None to use the extension's ``evidence.timeline`` (resolved as given,
    else next to the journal). A timeline that cannot be read is noted in the report, not fatal.
    """
    near: Optional[Path] = None
    if isinstance(journal_path_or_dict, dict):
        journal = journal_path_or_dict
    else:
        journal_file = Path(journal_path_or_dict)
        journal = json.loads(journal_file.read_text(encoding="utf-8"))
        near = journal_file.parent
    notes: List[str] = []
    if timeline_path is None:
        recorded = ((find_extension(journal) or {}).get("evidence") or {}).get("timeline")
        timeline_path = resolve_evidence_path(recorded, near) if recorded else None
    timeline: Optional[Timeline] = None
    if timeline_path is not None:
        try:
            timeline = load_timeline(timeline_path)
        except FileNotFoundError:
            notes.append(f"timeline file not found: {timeline_path}")
        except (OSError, TimelineError) as exc:
            notes.append(f"timeline unreadable: {exc}")
    out = Path(out_path)
    html_text = render_drill_report(journal, timeline, secrets=secrets, link_base=out.parent, notes=notes)
    return write_text_atomic(out, html_text)
