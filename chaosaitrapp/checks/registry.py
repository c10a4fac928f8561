"""Every checker by name, the default set per drill, and :func:`run_checks`.

A checker is a pure function ``(timeline, limits) -> CheckResult``. :func:`run_checks` never
raises for a checker's sake: an unknown name or a checker that raises gives an ``unknown``
result naming the problem, so a typo or a bug can never turn into a PASS.
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Optional

from chaosaitrapp.checks.detection import time_to_detect_pause, time_to_detect_ready
from chaosaitrapp.checks.invariants import health_stayed_up, heartbeat_while_ready, ready_while_not_leader
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.queue import queue_drained
from chaosaitrapp.checks.recovery import flaps, time_to_recover_ready, time_to_recover_resume, total_unavailability
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline

Checker = Callable[[Timeline, Limits], CheckResult]

CHECKS: Dict[str, Checker] = {
    "time_to_detect_ready": time_to_detect_ready,
    "time_to_detect_pause": time_to_detect_pause,
    "time_to_recover_ready": time_to_recover_ready,
    "time_to_recover_resume": time_to_recover_resume,
    "total_unavailability": total_unavailability,
    "flaps": flaps,
    "heartbeat_while_ready": heartbeat_while_ready,
    "ready_while_not_leader": ready_while_not_leader,
    "queue_drained": queue_drained,
    "health_stayed_up": health_stayed_up,
}

DRILL_CHECKS: Dict[str, List[str]] = {
    # Redis stopped: the seed's leader-lock criteria, timed.
    "leader_lock": [
        "time_to_detect_ready", "time_to_detect_pause", "time_to_recover_ready", "time_to_recover_resume",
        "total_unavailability", "flaps", "heartbeat_while_ready", "ready_while_not_leader", "health_stayed_up",
    ],
    # Postgres stopped: the API stays up and is ready again after the restart.
    "postgres_blip": [
        "health_stayed_up", "time_to_recover_ready", "flaps", "heartbeat_while_ready", "ready_while_not_leader",
    ],
    # Order burst: the throttle queue fills and drains; nothing else breaks meanwhile.
    "rate_limit_spike": [
        "queue_drained", "health_stayed_up", "heartbeat_while_ready", "ready_while_not_leader",
    ],
}


def checks_for(drill: Optional[str]) -> List[str]:
    """The default checker names for ``drill``; for an unknown drill, the invariants only."""
    if drill in DRILL_CHECKS:
        return list(DRILL_CHECKS[drill])
    return ["health_stayed_up", "heartbeat_while_ready", "ready_while_not_leader"]


def run_checks(timeline: Timeline, limits: Limits, names: Iterable[str]) -> List[CheckResult]:
    """Run the named checkers in order; unknown names and raising checkers give ``unknown``."""
    results: List[CheckResult] = []
    for name in names:
        checker = CHECKS.get(name)
        if checker is None:
            results.append(CheckResult(name, "unknown", f"no checker named {name!r} (known: {', '.join(CHECKS)})"))
            continue
        try:
            results.append(checker(timeline, limits))
        except Exception as exc:  # a checker bug must never pass, nor hide the other results
            results.append(CheckResult(name, "unknown", f"checker raised {type(exc).__name__}: {exc}"))
    return results
