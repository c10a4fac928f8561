"""The gray-failure checks of a dependency that hangs: the API kept answering while it did.

The hang's window runs from its ``fault_injected`` event (``dependency`` ``postgres``, a ``postgres_lock:``
or ``balloon:`` target) to its ``restored`` event (else the timeline's end). The drill's watch
(:func:`chaosaitrapp.trader.probes.answers_throughout`) records one ``answer`` event per request: ``path``,
``took_s``, ``answered`` (False: no answer within the watch's ``limit_s``) and ``limit_s``.
"""
from __future__ import annotations

from typing import Optional, Tuple

from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline, number

#: The target prefix of a Postgres hang's events.
#: The target prefixes of a Postgres hang's events: a lock of the drill's own, or a balloon filling its disk.
HANG_TARGET = ("postgres_lock:", "balloon:")


def hang_window(timeline: Timeline) -> Optional[Tuple[float, float]]:
    """``(start, end)`` of the Postgres hang (module docstring), or None when none was injected."""
    started = [float(e["t"]) for e in timeline.events_named("fault_injected")
               if str(e.get("target") or "").startswith(HANG_TARGET)]
    if not started:
        return None
    ended = [float(e["t"]) for e in timeline.events_named("restored")
             if str(e.get("target") or "").startswith(HANG_TARGET) and float(e["t"]) >= min(started)]
    return min(started), (max(ended) if ended else timeline.end_t)


def api_answered_during_hang(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a request the drill made during the hang was not answered within its limit (the watch's
    ``answer_max``); the figure is the slowest answer. Unknown without a hang or without a request made
    during it."""
    name = "api_answered_during_hang"
    window = hang_window(timeline)
    if window is None:
        return CheckResult(name, "unknown", "no Postgres hang was injected in this run (no postgres_lock or balloon "
                           "fault_injected event)")
    start, end = window
    answers = [e for e in timeline.events_named("answer") if start <= float(e["t"]) <= end + 1e-6]
    if not answers:
        return CheckResult(name, "unknown", "no request to the API was watched during the hang")
    limit = max(number(e.get("limit_s")) or 0.0 for e in answers)
    slowest = max(answers, key=lambda e: number(e.get("took_s")) or 0.0)
    top = round(number(slowest.get("took_s")) or 0.0, 3)
    figures = {"answers_during_hang": len(answers), "hang_s": round(end - start, 3)}
    missed = [e for e in answers if e.get("answered") is False]
    if missed:
        first = missed[0]
        return CheckResult(name, "fail", f"GET {first.get('path')} gave no answer within {limit:g}s at "
                           f"t={float(first['t']):.2f}, {float(first['t']) - start:.1f}s into the hang: the API hangs "
                           "with the database", top, limit, figures)
    return CheckResult(name, "pass", f"{len(answers)} requests answered during the {end - start:.1f}s hang, the "
                       f"slowest GET {slowest.get('path')} in {top:g}s (limit {limit:g}s)", top, limit, figures)
