"""The instants the chart's tick lanes mark: each rise of the target's token-refresh count, each change of the
number of orders in doubt the crash and order-state drills' watches saw."""
from __future__ import annotations

from typing import List, Optional, Tuple

from chaosaitrapp.checks.timeline import Timeline


def doubt_instants(timeline: Timeline) -> List[Tuple[float, float]]:
    """``(t, orders in doubt)`` at each change the drill's order watch saw (the crash and order-state drills'
    ``in_doubt_series``: wall times, put on the timeline's clock by their event's own ``t`` and ``wall``)."""
    out: List[Tuple[float, float]] = []
    for event in timeline.events_named("reconciled", "reconcile_timeout", "converged", "converge_timeout"):
        if event.get("wall") is None:
            continue
        shift = float(event["t"]) - float(event["wall"])
        out += [(float(wall) + shift, float(n)) for wall, n in event.get("in_doubt_series") or []]
    return sorted(out)


def refresh_instants(timeline: Timeline) -> List[Tuple[float, float]]:
    """``(t, count)`` at each sample where the token-refresh count had risen since the previous one."""
    out: List[Tuple[float, float]] = []
    previous: Optional[float] = None
    for t, value in timeline.series("token_refreshes"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if previous is not None and value > previous:
            out.append((t, float(value)))
        previous = float(value)
    return out
