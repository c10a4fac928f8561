"""The runs over time page (``aitrapp-chaos trends [DIR]``): every recorded drill run in a reports folder, by
drill and in the order they ran, with each detection and recovery figure drawn over the runs and a table of
the runs linking their reports.

A run is a suite run dict (:mod:`chaosaitrapp.suite`) with ``start`` (the journal's ISO start) and ``checks``.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Union

from chaosaitrapp import __version__
from chaosaitrapp.report.page import badge, esc, href_to, page, seconds, write_text_atomic
from chaosaitrapp.report.trends import drill_trends, figures_of

#: The chart's size in pixels.
WIDTH, HEIGHT, PAD = 640, 120, 24
#: A point's colour by verdict.
COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e"}


def by_drill(runs: Sequence[Mapping[str, Any]]) -> Dict[str, List[Mapping[str, Any]]]:
    """The runs grouped by drill (drills by name), each group in the order the runs started."""
    grouped: Dict[str, List[Mapping[str, Any]]] = {}
    for run in runs:
        grouped.setdefault(str(run.get("drill") or "?"), []).append(run)
    return {d: sorted(g, key=lambda r: str(r.get("start") or "")) for d, g in sorted(grouped.items())}


def chart(points: Sequence[Any]) -> str:
    """An SVG line of ``(value or None, verdict)`` over the runs, from 0 to the largest value; a run without the
    figure leaves a gap."""
    values = [v for v, _ in points if v is not None]
    top = max(values) if values else 1.0
    top = top if top > 0 else 1.0
    step = (WIDTH - 2 * PAD) / max(1, len(points) - 1)
    coords = [(PAD + i * step, HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD)) if v is not None else None
              for i, (v, _) in enumerate(points)]
    segments, current = [], []
    for xy in coords:
        if xy is None:
            segments, current = segments + ([current] if current else []), []
        else:
            current.append(xy)
    segments += [current] if current else []
    lines = "".join('<polyline fill="none" stroke="#57606a" stroke-width="1.5" points="'
                    + " ".join(f"{x:.1f},{y:.1f}" for x, y in seg) + '"/>' for seg in segments)
    dots = "".join(f'<circle cx="{xy[0]:.1f}" cy="{xy[1]:.1f}" r="3.5" fill="{COLOURS.get(verdict, "#9a6700")}">'
                   f"<title>{esc(verdict)} {esc(seconds(v))}</title></circle>"
                   for xy, (v, verdict) in zip(coords, points) if xy is not None)
    axis = (f'<text x="2" y="{PAD - 8}" font-size="11" fill="#57606a">{esc(seconds(top))}</text>'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#d0d7de"/>')
    return f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img">{axis}{lines}{dots}</svg>'


def render_history_html(runs: Sequence[Mapping[str, Any]], base_dir: Path, *, secrets: Sequence[str] = ()) -> str:
    """The page as HTML; links relative to ``base_dir`` (the page's folder)."""
    sections = []
    groups = by_drill(runs)
    trends = drill_trends([run for group in groups.values() for run in group])
    for drill, group in groups.items():
        t = trends[drill]
        names = sorted({name for run in group for name in figures_of(run)})
        charts = "".join(f"<h3>{esc(name)}</h3>" + chart([(figures_of(r).get(name), str(r.get("verdict")))
                                                             for r in group]) for name in names)
        rows = []
        for run in group:
            figures = figures_of(run)
            link = href_to(run["report"], base_dir) if run.get("report") else None
            evidence = f'<a href="{esc(link)}">report</a>' if link else "-"
            rows.append(f"<tr><td>{esc(run.get('start') or '-')}</td>"
                        f"<td>{badge({'PASS': 'pass', 'FAIL': 'fail'}.get(str(run.get('verdict')), 'unknown'))}</td>"
                        f"<td>{esc('; '.join(f'{n} {seconds(v)}' for n, v in sorted(figures.items())) or '-')}</td>"
                        f"<td>{evidence}</td></tr>")
        summary = (f"{t['runs']} run(s), fail rate {t['fail_rate']:.0%}" + ("; flaky" if t["flaky"] else "")
                   + "".join(f"; {n} p50 {f['p50']:.2f} s, p95 {f['p95']:.2f} s" for n, f in t["figures"].items()))
        sections.append(f"<section><h2>{esc(drill)}</h2><p>{esc(summary)}</p>{charts}<table><thead><tr><th>started"
                        f"</th><th>verdict</th><th>figures</th><th>evidence</th></tr></thead><tbody>{''.join(rows)}"
                        f"</tbody></table></section>")
    body = (f'<header class="verdict unknown"><div class="big">{len(runs)}</div><div><div class="what">drill runs '
            f'over time</div><div class="facts">{len(groups)} drill(s)</div></div></header>'
            + ("".join(sections) or "<section><p>no recorded run</p></section>")
            + f"<footer>chaosaitrapp {esc(__version__)} · generated "
              f"{esc(datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC'))}</footer>")
    return page("drill runs over time", body, secrets)


def render_history(runs: Sequence[Mapping[str, Any]], out_path: Union[str, Path], *,
                   secrets: Sequence[str] = ()) -> Path:
    """Write the page to ``out_path`` (links relative to its folder); returns the path."""
    out = Path(out_path)
    return write_text_atomic(out, render_history_html(runs, out.parent, secrets=secrets))
