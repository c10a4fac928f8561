"""The timeline chart: one inline SVG built in Python (no script, no external reference).

Top to bottom, over a shared time axis: labelled marks (fault, detected, restored, recovered,
burst, drained), a strip showing the fault windows, three state bands (``ready``, ``leader``,
``paused``: green good, red bad, grey no data), heartbeat ages as lines with a dashed
``heartbeat_max`` line, the throttle queue depth when it ever rose above 0, and the target process's CPU %
and resident memory when it was sampled (the stress drills). Fault windows are
shaded across the panels. Bands use exact, opaque colours (:data:`GOOD`, :data:`BAD`,
:data:`NODATA`) drawn with crisp edges, so a screenshot can be checked for them.
"""
from __future__ import annotations

import html
import math
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from chaosaitrapp import registry
from chaosaitrapp.checks.timeline import Timeline
from chaosaitrapp.report.instants import doubt_instants, refresh_instants
from chaosaitrapp.report.marks import chart_marks, place_labels

GOOD = "#2e9e4f"
BAD = "#d64541"
NODATA = "#c3c9d1"
FAULT = "#f0a030"
FAULT_SHADE = "#f0a030"
OVERLAP = "#c0392b"  # two traders at once (the split-brain drills)
MARK_FAULT = "#a04000"
MARK_MEASURE = "#1b4f8a"
HEARTBEAT_COLORS = {"md_hb": "#1f77b4", "order_hb": "#8e44ad", "scan_hb": "#17a589"}
HEARTBEAT_NAMES = {"md_hb": "market data", "order_hb": "order stream", "scan_hb": "scan"}
CPU_COLOR = "#c0392b"
RSS_COLOR = "#16a085"
QUEUE_COLOR = "#34495e"
LIMIT_COLOR = "#c0392b"

WIDTH = 1180
LEFT = 128
RIGHT = 28
LABEL_ROWS = 3
LABEL_ROW_H = 15


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _nice_step(span: float, target: int) -> float:
    """A 1-2-5 step giving about ``target`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / max(1, target)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _fmt_num(value: float) -> str:
    return f"{value:g}" if abs(value - round(value)) > 1e-9 else str(int(round(value)))


class _Scale:
    """Maps seconds to x pixels over the plot area."""

    def __init__(self, t0: float, t1: float) -> None:
        self.t0, self.t1 = t0, max(t1, t0 + 1e-6)
        self.width = WIDTH - LEFT - RIGHT

    def x(self, t: float) -> float:
        return LEFT + (min(max(t, self.t0), self.t1) - self.t0) / (self.t1 - self.t0) * self.width


def _segments(samples: Sequence[Dict[str, Any]], field: str, colour: Callable[[Any], str],
              end_t: float, max_gap: float, hold: float) -> List[Tuple[float, float, str]]:
    """Consecutive samples merged into ``(start, end, colour)`` spans; a hole longer than
    ``max_gap`` shows the sample for ``hold`` seconds, then :data:`NODATA`."""
    spans: List[Tuple[float, float, str]] = []

    def add(a: float, b: float, c: str) -> None:
        if b <= a:
            return
        if spans and spans[-1][2] == c and abs(spans[-1][1] - a) < 1e-9:
            spans[-1] = (spans[-1][0], b, c)
        else:
            spans.append((a, b, c))

    times = [float(s["t"]) for s in samples]
    for i, sample in enumerate(samples):
        start = times[i]
        stop = times[i + 1] if i + 1 < len(samples) else max(end_t, start)
        c = colour(sample.get(field))
        if stop - start > max_gap:
            add(start, start + hold, c)
            add(start + hold, stop, NODATA)
        else:
            add(start, stop, c)
    return spans


def _ready_colour(value: Any) -> str:
    return NODATA if value is None else (GOOD if value is True else BAD)


def _leader_colour(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return NODATA
    return GOOD if float(value) == 1.0 else BAD


def _paused_colour(value: Any) -> str:
    return NODATA if value is None else (BAD if value is True else GOOD)


def _connected_colour(value: Any) -> str:
    return NODATA if not isinstance(value, bool) else (GOOD if value else BAD)


def _replica_names(timeline: Timeline) -> List[str]:
    """The replicas whose leader gauges the samples read (``meta["replicas"]`` order), else none."""
    seen: List[str] = []
    for sample in timeline.samples:
        for name in (sample.get("replica_leaders") or {}):
            if name not in seen:
                seen.append(name)
    order = [n for n in timeline.meta.get("replicas") or [] if n in seen]
    return order + [n for n in seen if n not in order]


def _sampled(timeline: Timeline, field: str) -> bool:
    """True when some sample read ``field`` (the chart then has its lane)."""
    return any(s.get(field) is not None for s in timeline.samples)


def _runs(samples: Sequence[Dict[str, Any]], field: str, max_gap: float) -> List[List[Tuple[float, float]]]:
    """The numeric values of ``field`` as polylines, split at nulls and at holes > ``max_gap``."""
    runs: List[List[Tuple[float, float]]] = []
    current: List[Tuple[float, float]] = []
    last_t: Optional[float] = None
    for sample in samples:
        value, t = sample.get(field), float(sample["t"])
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if current:
                runs.append(current)
            current, last_t = [], None
            continue
        if last_t is not None and t - last_t > max_gap and current:
            runs.append(current)
            current = []
        current.append((t, float(value)))
        last_t = t
    if current:
        runs.append(current)
    return runs


def _thin(points: List[Tuple[float, float]], xs: Callable[[float], float]) -> List[Tuple[float, float]]:
    """At most a min and a max per pixel column, in time order (keeps spikes, drops the rest)."""
    if len(points) <= 2 * (WIDTH - LEFT - RIGHT):
        return points
    kept: List[Tuple[float, float]] = []
    bucket: List[Tuple[float, float]] = []
    column: Optional[int] = None
    for point in points + [(math.inf, 0.0)]:
        col = int(xs(point[0])) if point[0] != math.inf else None
        if col != column and bucket:
            low, high = min(bucket, key=lambda p: p[1]), max(bucket, key=lambda p: p[1])
            kept.extend(sorted({low, high}))
            bucket = []
        column = col
        if point[0] != math.inf:
            bucket.append(point)
    return kept


def _polyline(points: Iterable[Tuple[float, float]], colour: str, width: float = 1.8,
              extra: str = "") -> str:
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="{width}" '
            f'stroke-linejoin="round" stroke-linecap="round"{extra}/>')


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, colour: str = "#2c3e50",
          weight: str = "normal", halo: bool = False) -> str:
    halo_attrs = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"' if halo else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{colour}" '
            f'font-weight="{weight}"{halo_attrs}>{_e(text)}</text>')


def has_queue_panel(timeline: Timeline) -> bool:
    """True when the queue depth was ever sampled above 0 (the chart then has a queue panel)."""
    return any(isinstance(s.get("queue"), (int, float)) and not isinstance(s.get("queue"), bool)
               and s["queue"] > 0 for s in timeline.samples)


def cpu_percent(samples: Sequence[Dict[str, Any]], every: float = 0.5) -> List[Tuple[float, float]]:
    """``(t, CPU %)`` of the target process from the samples' cumulative ``cpu_s`` (one point per ``every``
    seconds at least; a change of ``proc_pid`` starts afresh), or, for a pod, their ``cpu_pct`` as the resource
    metrics API gave it."""
    given = [(float(s["t"]), float(s["cpu_pct"])) for s in samples
             if isinstance(s.get("cpu_pct"), (int, float)) and not isinstance(s.get("cpu_pct"), bool)]
    if given:
        return given
    out: List[Tuple[float, float]] = []
    last: Optional[Tuple[float, float, Any]] = None
    for s in samples:
        value = s.get("cpu_s")
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        t, pid = float(s["t"]), s.get("proc_pid")
        if last is None or pid != last[2] or value < last[1]:
            last = (t, float(value), pid)
            continue
        if t - last[0] >= every:
            out.append((t, max(0.0, (float(value) - last[1]) / (t - last[0]) * 100)))
            last = (t, float(value), pid)
    return out


def _line_panel(parts: List[str], scale: "_Scale", runs: List[List[Tuple[float, float]]], y0: float, h: float,
                label: str, unit: str, colour: str, lane: str) -> None:
    """A panel of one series (``runs``: unbroken stretches of ``(t, value)``) with its y grid, label and
    ``data-lane``."""
    values = [v for run in runs for _, v in run]
    step = _nice_step(max(max(values, default=1.0) * 1.1, 1.0), 4)
    top = math.ceil(max(max(values, default=1.0) * 1.1, 1.0) / step) * step

    def y(v: float) -> float:
        return y0 + h - min(max(v, 0.0), top) / top * h

    parts.append(f'<rect x="{LEFT}" y="{y0}" width="{scale.width}" height="{h}" fill="none" stroke="#aab4be" '
                 f'data-lane="{lane}"/>')
    v = 0.0
    while v <= top + 1e-9:
        parts.append(f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + scale.width}" y2="{y(v):.1f}" stroke="#edf0f3"/>')
        parts.append(_text(LEFT - 8, y(v) + 4, f"{_fmt_num(v)}{unit}", anchor="end", size=11, colour="#566573"))
        v += step
    parts.append(_text(LEFT - 58, y0 + h / 2, label, anchor="middle", size=12, weight="600")
                 .replace("<text ", f'<text transform="rotate(-90 {LEFT - 58} {y0 + h / 2})" ', 1))
    for run in runs:
        parts.append(_polyline([(scale.x(t), y(v)) for t, v in _thin(run, scale.x)], colour, 2.0))


def shaded_windows(timeline: Timeline) -> List[Tuple[float, float]]:
    """Windows the families shade red (:attr:`chaosaitrapp.declare.Family.shading`: two traders at once)."""
    return [window for _, shade in registry.hooks("shading") for window in shade(timeline)]


def render_timeline_svg(
    timeline: Timeline,
    marks: Dict[str, Any],
    *,
    heartbeat_max: Optional[float] = None,
    max_gap: float = 1.0,
    checks: Sequence[Any] = (),
) -> str:
    """The chart as an ``<svg>`` element string (no ``xmlns``: it is inlined in HTML).

    ``marks`` is :func:`chaosaitrapp.checks.recovery_marks` output; ``checks`` (optional)
    adds the "drained" mark of a ``queue_drained`` result.
    """
    replicas = _replica_names(timeline)
    samples = timeline.samples if not replicas else [  # one leader lane per replica (the split-brain drills)
        dict(s, **{f"leader@{name}": value for name, value in (s.get("replica_leaders") or {}).items()})
        for s in timeline.samples]
    event_ts = [float(e["t"]) for e in timeline.events]
    t0 = min([0.0, timeline.start_t] + event_ts)
    t1 = max([timeline.end_t] + event_ts)
    scale = _Scale(t0, t1)
    hold = timeline.interval or 0.05
    parts: List[str] = []

    top_labels = 6
    strip_y = top_labels + LABEL_ROWS * LABEL_ROW_H + 6
    strip_h = 12
    band_h, band_gap = 22, 6
    bands_y = strip_y + strip_h + 10
    bands = [("ready", "ready (/ready)", _ready_colour), ("leader", "leader", _leader_colour),
             ("paused", "paused (/state)", _paused_colour)]
    if _sampled(timeline, "md_connected"):
        bands.append(("md_connected", "market data", _connected_colour))
    bands += [(f"leader@{name}", f"leader {name}", _leader_colour) for name in replicas]
    refresh_lane = _sampled(timeline, "token_refreshes")
    doubts = doubt_instants(timeline)
    tick_lanes = ([("token refreshes", "token_refreshes", refresh_instants(timeline))] if refresh_lane else []) + (
        [("orders in doubt", "orders_in_doubt", doubts)] if doubts else [])
    lanes = len(bands) + len(tick_lanes)
    hb_y = bands_y + lanes * (band_h + band_gap) + 20
    hb_h = 200
    has_queue = has_queue_panel(timeline)
    queue_y = hb_y + hb_h + 26
    queue_h = 110
    bottom = queue_y + queue_h if has_queue else hb_y + hb_h
    cpu_points = cpu_percent(samples)
    has_process = _sampled(timeline, "rss_mb")  # the stress drills: the target process's CPU and memory
    process_h = 90
    cpu_y = bottom + 26
    rss_y = cpu_y + process_h + 26
    if has_process:
        bottom = rss_y + process_h
    height = bottom + 44

    # fault windows: shading behind everything, and the strip
    for start, end, detail in marks.get("windows") or []:
        stop = end if end is not None else (start if detail == "burst" else t1)
        x0, x1 = scale.x(start), scale.x(stop)
        if x1 - x0 >= 0.5:
            parts.append(f'<rect x="{x0:.2f}" y="{strip_y}" width="{x1 - x0:.2f}" height="{bottom - strip_y}" '
                         f'fill="{FAULT_SHADE}" fill-opacity="0.13"/>')
            parts.append(f'<rect x="{x0:.2f}" y="{strip_y}" width="{x1 - x0:.2f}" height="{strip_h}" '
                         f'fill="{FAULT}" shape-rendering="crispEdges"/>')
    parts.append(_text(LEFT - 10, strip_y + strip_h - 2, "fault window", anchor="end", size=11, colour="#7f5200"))
    for start, stop in shaded_windows(timeline):  # two traders at once (split brain): shaded red
        x0, x1 = scale.x(start), scale.x(stop)
        parts.append(f'<rect x="{x0:.2f}" y="{strip_y}" width="{max(2.0, x1 - x0):.2f}" '
                     f'height="{bottom - strip_y}" fill="{OVERLAP}" fill-opacity="0.28" data-overlap="1"/>')

    # x grid
    step = _nice_step(t1 - t0, 12)
    tick = math.ceil(t0 / step) * step
    grid, ticks = [], []
    while tick <= t1 + 1e-9:
        x = scale.x(tick)
        grid.append(f'<line x1="{x:.1f}" y1="{bands_y}" x2="{x:.1f}" y2="{bottom}" stroke="#e3e7ec" stroke-width="1"/>')
        ticks.append(_text(x, bottom + 18, f"{_fmt_num(tick)} s", anchor="middle", size=11, colour="#566573"))
        tick += step
    parts.extend(grid)

    # state bands
    for i, (field, label, colour) in enumerate(bands):
        y = bands_y + i * (band_h + band_gap)
        parts.append(_text(LEFT - 10, y + band_h / 2 + 4, label, anchor="end", size=12, weight="600"))
        parts.append(f'<rect x="{LEFT}" y="{y}" width="{scale.width}" height="{band_h}" fill="{NODATA}" '
                     f'shape-rendering="crispEdges"/>')
        spans = _segments(samples, field, colour, timeline.end_t, max_gap, hold)
        group = [f'<g shape-rendering="crispEdges" data-band="{field}">']
        for start, stop, c in spans:
            x0, x1 = scale.x(start), scale.x(stop)
            if x1 > x0:
                group.append(f'<rect x="{x0:.2f}" y="{y}" width="{x1 - x0:.2f}" height="{band_h}" fill="{c}"/>')
        group.append("</g>")
        parts.append("".join(group))
    for index, (label, name, instants) in enumerate(tick_lanes):  # a tick per change, with the value reached
        y = bands_y + (len(bands) + index) * (band_h + band_gap)
        parts.append(_text(LEFT - 10, y + band_h / 2 + 4, label, anchor="end", size=12, weight="600"))
        parts.append(f'<rect x="{LEFT}" y="{y}" width="{scale.width}" height="{band_h}" fill="#f4f6f7" '
                     f'stroke="#d5dbe0"/>')
        group = [f'<g data-band="{name}">']
        for t, count in instants:
            x = scale.x(t)
            group.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + band_h}" stroke="{FAULT}" '
                         f'stroke-width="2"/>')
            group.append(_text(x + 3, y + band_h - 6, _fmt_num(count), size=10, colour="#7f5200"))
        group.append("</g>")
        parts.append("".join(group))

    # heartbeat panel
    ages = [float(s[f]) for s in samples for f in HEARTBEAT_COLORS
            if isinstance(s.get(f), (int, float)) and not isinstance(s.get(f), bool)]
    top_value = max([heartbeat_max * 1.3 if heartbeat_max else 1.0] + [a * 1.08 for a in ages])
    ystep = _nice_step(top_value, 5)
    ymax = math.ceil(top_value / ystep) * ystep

    def hy(v: float) -> float:
        return hb_y + hb_h - min(max(v, 0.0), ymax) / ymax * hb_h

    parts.append(f'<rect x="{LEFT}" y="{hb_y}" width="{scale.width}" height="{hb_h}" fill="none" stroke="#aab4be"/>')
    v = 0.0
    while v <= ymax + 1e-9:
        y = hy(v)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + scale.width}" y2="{y:.1f}" stroke="#edf0f3"/>')
        parts.append(_text(LEFT - 8, y + 4, f"{_fmt_num(v)} s", anchor="end", size=11, colour="#566573"))
        v += ystep
    parts.append(_text(LEFT - 58, hb_y + hb_h / 2, "heartbeat age", anchor="middle", size=12, weight="600")
                 .replace("<text ", f'<text transform="rotate(-90 {LEFT - 58} {hb_y + hb_h / 2})" ', 1))
    if heartbeat_max:
        y = hy(heartbeat_max)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + scale.width}" y2="{y:.1f}" stroke="{LIMIT_COLOR}" '
                     f'stroke-width="1.6" stroke-dasharray="7 5"/>')
        parts.append(_text(LEFT + scale.width - 6, y - 6, f"heartbeat_max {_fmt_num(heartbeat_max)} s",
                           anchor="end", size=12, colour=LIMIT_COLOR, weight="600", halo=True))
    for field, colour in HEARTBEAT_COLORS.items():
        for run in _runs(samples, field, max_gap):
            points = [(scale.x(t), hy(v)) for t, v in _thin(run, scale.x)]
            parts.append(_polyline(points, colour))

    # queue panel
    if has_queue:
        _line_panel(parts, scale, _runs(samples, "queue", max_gap), queue_y, queue_h, "queue depth", "",
                    QUEUE_COLOR, "queue")
    # the target process: CPU % and resident memory
    if has_process:
        _line_panel(parts, scale, [cpu_points] if cpu_points else [], cpu_y, process_h, "target CPU", " %",
                    CPU_COLOR, "cpu")
        _line_panel(parts, scale, _runs(samples, "rss_mb", max_gap), rss_y, process_h, "target RSS", " MiB",
                    RSS_COLOR, "rss")

    # x axis
    parts.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + scale.width}" y2="{bottom}" stroke="#7f8c8d"/>')
    parts.extend(ticks)
    parts.append(_text(LEFT + scale.width, bottom + 36, "seconds since the sampler started", anchor="end", size=11,
                       colour="#566573"))

    # marks: vertical lines and staggered labels
    for x, row, label, colour, dashed, left in place_labels(chart_marks(marks, checks, MARK_FAULT, MARK_MEASURE),
                                                            scale.x, WIDTH, LABEL_ROWS):
        y_label = top_labels + (row + 1) * LABEL_ROW_H - 3
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        parts.append(f'<line x1="{x:.1f}" y1="{y_label + 3}" x2="{x:.1f}" y2="{bottom}" stroke="{colour}" '
                     f'stroke-width="1.6"{dash}/>')
        parts.append(_text(x - 4 if left else x + 4, y_label, label, anchor="end" if left else "start", size=12,
                           colour=colour, weight="600", halo=True))

    return (f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
            f'aria-label="drill timeline" font-family="inherit">' + "".join(parts) + "</svg>")
