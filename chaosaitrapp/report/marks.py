"""The chart's labelled vertical marks (fault, detected, restored, recovered, drained) and where their
labels go so that they do not overlap."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Sequence, Tuple


def place_labels(marks: List[Tuple[float, str, str, bool]], x_of: Callable[[float], float], width: float,
                 rows: int) -> List[Tuple[float, int, str, str, bool, bool]]:
    """Assign each mark's label a row so labels do not overlap:
    ``(x, row, label, colour, dashed, left)``; ``left`` labels sit left of their line (near the right edge
    of a chart ``width`` wide); ``x_of`` maps a time to x; ``rows`` label rows."""
    spans: List[List[Tuple[float, float]]] = [[] for _ in range(rows)]
    placed = []
    for t, label, colour, dashed in sorted(marks, key=lambda m: m[0]):
        x = x_of(t)
        span = 6.8 * len(label) + 8
        left = x + span > width - 2
        lo, hi = (x - span, x) if left else (x, x + span)
        row = next((r for r in range(rows) if all(hi < a - 4 or lo > b + 4 for a, b in spans[r])), None)
        if row is None:
            row = min(range(rows), key=lambda r: len(spans[r]))
        spans[row].append((lo, hi))
        placed.append((x, row, label, colour, dashed, left))
    return placed


def chart_marks(marks: Dict[str, Any], checks: Sequence[Any] = (), fault_colour: str = "#a04000",
                measure_colour: str = "#1b4f8a") -> List[Tuple[float, str, str, bool]]:
    """The labelled vertical marks ``(t, label, colour, dashed)`` for :func:`recovery_marks` output,
    plus "drained" from a ``queue_drained`` check result (a :class:`CheckResult` or its dict)."""
    out: List[Tuple[float, str, str, bool]] = []
    windows = marks.get("windows") or []
    burst = next((w for w in windows if w[2] == "burst"), None)
    if marks.get("fault") is not None:
        out.append((marks["fault"], "burst" if burst and burst[0] == marks["fault"] else "fault", fault_colour, False))
    if marks.get("detect") is not None and marks.get("detect_s") is not None:
        out.append((marks["detect"], f"not ready +{marks['detect_s']:.2f} s", measure_colour, True))
    if marks.get("restore") is not None:
        out.append((marks["restore"], "restored", fault_colour, False))
    if marks.get("recover") is not None and marks.get("recover_s") is not None:
        out.append((marks["recover"], f"ready again +{marks['recover_s']:.2f} s", measure_colour, True))
    for check in checks:
        data = check if isinstance(check, dict) else check.to_dict()
        if data.get("name") == "queue_drained" and isinstance(data.get("value"), (int, float)) and burst:
            out.append((burst[0] + float(data["value"]), f"drained +{float(data['value']):.2f} s", measure_colour, True))
    return out
