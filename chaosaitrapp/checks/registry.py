"""The general checkers by name (:data:`GENERAL_CHECKS`: those of every drill and of the detection and
recovery timings every fault family uses), the baseline every drill gets, and :func:`run_checks`.

A checker is a pure function ``(timeline, limits) -> CheckResult``. Each fault family brings its own
checkers and says which checks judge each of its fault kinds (:mod:`chaosaitrapp.registry` joins them);
:func:`run_checks` never raises for a checker's sake: an unknown name or a checker that raises gives an
``unknown`` result naming the problem, so a typo or a bug can never turn into a PASS.
"""
from __future__ import annotations

import gc
from typing import Callable, Dict, Iterable, List, Mapping

from chaosaitrapp.checks.detection import time_to_detect_pause, time_to_detect_ready
from chaosaitrapp.checks.invariants import health_stayed_up, heartbeat_while_ready, ready_while_not_leader
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.recovery import flaps, time_to_recover_ready, time_to_recover_resume, total_unavailability
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.sampling import sampling_rate
from chaosaitrapp.checks.timeline import Timeline

Checker = Callable[[Timeline, Limits], CheckResult]

GENERAL_CHECKS: Dict[str, Checker] = {
    "sampling_rate": sampling_rate,
    "time_to_detect_ready": time_to_detect_ready,
    "time_to_detect_pause": time_to_detect_pause,
    "time_to_recover_ready": time_to_recover_ready,
    "time_to_recover_resume": time_to_recover_resume,
    "total_unavailability": total_unavailability,
    "flaps": flaps,
    "heartbeat_while_ready": heartbeat_while_ready,
    "ready_while_not_leader": ready_while_not_leader,
    "health_stayed_up": health_stayed_up,
}

#: What holds on every drill, whatever its fault: a dense enough timeline, a live API, honest readiness.
BASELINE_CHECKS: List[str] = ["sampling_rate", "health_stayed_up", "heartbeat_while_ready", "ready_while_not_leader"]


def run_checks(timeline: Timeline, limits: Limits, names: Iterable[str],
               checkers: Mapping[str, Checker]) -> List[CheckResult]:
    """Run the named checkers (from ``checkers``, every checker by name) in order; unknown names and raising
    checkers give ``unknown``. The cyclic garbage collector pauses meanwhile: the checkers build no cycles, and
    on a long history (a million placements) its passes over the timeline's records cost a third of the time."""
    results: List[CheckResult] = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        for name in names:
            checker = checkers.get(name)
            if checker is None:
                results.append(CheckResult(name, "unknown", f"no checker named {name!r} (known: {', '.join(checkers)})"))
                continue
            try:
                results.append(checker(timeline, limits))
            except Exception as exc:  # a checker bug must never pass, nor hide the other results
                results.append(CheckResult(name, "unknown", f"checker raised {type(exc).__name__}: {exc}"))
    finally:
        if collecting:
            gc.enable()
    return results
