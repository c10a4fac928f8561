"""The clock checks: a wall clock that stepped or drifted changed nothing a lease or a heartbeat stands on.

The jump's window runs from its ``fault_injected`` event (a ``clock:`` target: the target's ``Date`` header
showed the step) to its ``restored`` event (the clock put back and seen so), else the timeline's end. While
it lasts the drill reads the lock key (``lock_read`` events: ``held``, ``pttl_ms``); heartbeat ages come
from the sampler's samples (``md_hb``, ``order_hb``, ``scan_hb``), from the jump to the timeline's end (the
clock put back is a step too, the other way).
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from chaosaitrapp.checks.invariants import HEARTBEAT_FIELDS
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline, number

#: The target prefix of a clock jump's events.
CLOCK_TARGET = "clock:"
#: Rounding a target may apply to an age it reports (seconds): a read this far below 0 is still 0.
AGE_ROUNDING_S = 0.01


def jump_window(timeline: Timeline) -> Optional[Tuple[float, float]]:
    """``(start, end)`` of the clock jump (module docstring), or None when none was injected."""
    started = [float(e["t"]) for e in timeline.events_named("fault_injected")
               if str(e.get("target") or "").startswith(CLOCK_TARGET)]
    if not started:
        return None
    ended = [float(e["t"]) for e in timeline.events_named("restored")
             if str(e.get("target") or "").startswith(CLOCK_TARGET) and float(e["t"]) >= min(started)]
    return min(started), (max(ended) if ended else timeline.end_t)


def lock_kept_through_jump(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a read of the lock key while the clock was off found it gone: the leader let its lease run
    out (its refresh waited on the wall clock). Unknown without a jump or without a readable read during it."""
    name = "lock_kept_through_jump"
    window = jump_window(timeline)
    if window is None:
        return CheckResult(name, "unknown", "no clock jump was injected in this run (no clock fault_injected event)")
    start, end = window
    reads = [e for e in timeline.events_named("lock_read")
             if start <= float(e["t"]) <= end + 1e-6 and isinstance(e.get("held"), bool)]
    if not reads:
        return CheckResult(name, "unknown", "the lock key was not read while the clock was off")
    absent = [e for e in reads if e["held"] is False]
    figures = {"lock_reads": len(reads), "jump_s": round(end - start, 3)}
    if absent:
        first = absent[0]
        return CheckResult(name, "fail", f"the lock key was gone at t={float(first['t']):.2f}, "
                           f"{secs(float(first['t']) - start)} into the clock jump ({len(absent)} of {len(reads)} reads): "
                           "the leader's lease ran out while its wall clock was off (a refresh or lease judged on "
                           "the wall clock)", float(len(absent)), 0.0, figures)
    lowest = min((number(e.get("pttl_ms")) for e in reads if number(e.get("pttl_ms")) is not None), default=None)
    low = f"; its TTL never below {lowest:g} ms" if lowest is not None else ""
    return CheckResult(name, "pass", f"the lock key was held at all {len(reads)} reads during the "
                       f"{secs(end - start)} clock jump{low}", 0.0, 0.0, figures)


def heartbeat_ages_sane(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a heartbeat age read from the jump on (the clock put back included) was negative or above
    ``heartbeat_max``: ages taken from the wall clock. Unknown without a jump or without an age read after it."""
    name, hb_max = "heartbeat_ages_sane", limits.heartbeat_max
    window = jump_window(timeline)
    if window is None:
        return CheckResult(name, "unknown", "no clock jump was injected in this run (no clock fault_injected event)",
                           None, hb_max)
    start = window[0]
    ages: List[Tuple[float, str, float]] = []
    for sample in timeline.samples:
        if float(sample["t"]) < start:
            continue
        for field in HEARTBEAT_FIELDS:
            age = number(sample.get(field))
            if age is not None:
                ages.append((float(sample["t"]), field, age))
    if not ages:
        return CheckResult(name, "unknown", "no heartbeat age was read from the clock jump on", None, hb_max)
    bad = [a for a in ages if a[2] < -AGE_ROUNDING_S or a[2] > hb_max]
    if bad:
        t, field, age = max(bad, key=lambda a: abs(a[2]))
        kind = "negative" if age < 0 else f"above heartbeat_max {secs(hb_max)}"
        return CheckResult(name, "fail", f"{field} read {age:g}s at t={t:.2f} ({kind}; {len(bad)} read(s)), "
                           f"{secs(t - start)} after the clock jumped: heartbeat ages taken from the wall clock",
                           round(age, 3), hb_max)
    worst = max(a[2] for a in ages)
    return CheckResult(name, "pass", f"every heartbeat age from the clock jump on was between 0 and {secs(hb_max)} "
                       f"({len(ages)} reads, the oldest {secs(worst)})", round(worst, 3), hb_max)
