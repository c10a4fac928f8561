"""Shrinking a failing schedule (pure: the runs are a callback): search for a smaller schedule that still fails
one of the checks the original failed, bounded in runs and time, and return the smallest found.

Steps, each tried until it no longer helps (a candidate is kept when it still fails):

1. **drop faults**: chunks of half the faults, then quarters, down to single faults (delta debugging), what is
   left compacted (below) so that each candidate runs only as long as its faults need;
2. **compact**: the idle time before each group of overlapping faults cut to ``RECOVERY_GAP_S`` (``LEAD_S``
   before the first): the target has recovered from one group before the next begins;
3. **shorten**: each fault to half its length (never below its kind's shortest);
4. **separate**: two overlapping faults moved apart (the later one after the earlier ends): kept when the
   failure does not need the overlap, and the report says which overlaps it does need.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, List, Optional, Sequence, Set, Tuple

from chaosaitrapp.campaign.catalogue import BY_NAME
from chaosaitrapp.campaign.schedule import LEAD_S, SETTLE_S, Fault, Schedule, overlapping

#: ``schedule -> failed checks`` (empty: it passed): one campaign run.
Oracle = Callable[[Schedule], Set[str]]


@dataclass
class Shrunk:
    """What the search found: the ``smallest`` failing schedule, the ``checks`` it fails, the ``runs`` it took,
    every ``step`` tried (``(what, kept)``), the overlaps the failure ``needs``, and whether it ``stopped`` on a
    bound before it was done."""

    smallest: Schedule
    checks: Set[str]
    runs: int = 0
    steps: List[Tuple[str, bool]] = field(default_factory=list)
    needs: List[Tuple[str, str]] = field(default_factory=list)
    stopped: str = ""


class _Budget(Exception):
    pass


#: The idle time a compacted schedule keeps between two groups of overlapping faults (a recovery's worth).
RECOVERY_GAP_S = 5.0


def compacted(schedule: Schedule) -> Schedule:
    """The same faults with the idle time before each group of overlapping faults cut to ``RECOVERY_GAP_S``
    (``LEAD_S`` before the first; never lengthened): relative times inside a group kept."""
    groups: List[List[Fault]] = []
    for fault in sorted(schedule.faults, key=lambda f: f.start):
        if groups and fault.start < max(f.end for f in groups[-1]):
            groups[-1].append(fault)
        else:
            groups.append([fault])
    out: List[Fault] = []
    at = LEAD_S
    for group in groups:
        shift = max(0.0, group[0].start - at)
        out.extend(replace(f, start=round(f.start - shift, 1)) for f in group)
        at = max(f.end for f in group) - shift + RECOVERY_GAP_S
    return schedule.with_faults(out, f"{schedule.origin}, compacted")


def shortened(schedule: Schedule, fault_id: str) -> Optional[Schedule]:
    """``fault_id`` at half its length (not below its kind's shortest), or None when it is that short already."""
    out = []
    changed = False
    for fault in schedule.faults:
        if fault.id == fault_id:
            spec = BY_NAME[fault.kind]
            seconds = round(max(spec.min_s, fault.seconds / 2), 1)
            changed = seconds < fault.seconds
            fault = replace(fault, seconds=seconds)
        out.append(fault)
    return schedule.with_faults(out, f"{fault_id} shortened") if changed else None


def separated(schedule: Schedule, first: str, second: str) -> Schedule:
    """``second`` moved to start ``SETTLE_S`` after ``first`` ends, and every later fault with it."""
    a = next(f for f in schedule.faults if f.id == first)
    b = next(f for f in schedule.faults if f.id == second)
    shift = a.end + SETTLE_S - b.start
    out = [replace(f, start=round(f.start + shift, 1)) if f.start >= b.start and f.id != first else f
           for f in schedule.faults]
    moved = schedule.with_faults(out, f"{second} moved after {first}")
    return replace(moved, length_s=round(max(f.end for f in moved.faults) + SETTLE_S, 3))


def _chunks(faults: Sequence[Fault], size: int) -> Iterable[List[Fault]]:
    for i in range(0, len(faults), size):
        yield list(faults[i:i + size])


class CandidateNotRun(Exception):
    """Raised by an oracle whose run never played its schedule (the target was not ready before it, or the run
    was refused): nothing can be learnt from it, so shrinking stops there, keeping the smallest failing schedule
    found so far."""


def shrink(schedule: Schedule, failed: Set[str], run: Oracle, *, max_runs: int = 12, max_seconds: float = 900.0,
           clock: Callable[[], float] = time.monotonic) -> Shrunk:
    """Shrink ``schedule``, which failed the checks ``failed`` (module docstring), calling ``run`` at most
    ``max_runs`` times and starting no run after ``max_seconds``."""
    began = clock()
    found = Shrunk(schedule, set(failed))

    def still_fails(candidate: Schedule, what: str) -> bool:
        if found.runs >= max_runs:
            raise _Budget(f"stopped after {found.runs} runs (max {max_runs})")
        spent = clock() - began
        if spent >= max_seconds:
            raise _Budget(f"stopped after {spent:.0f} s (max {max_seconds:g} s)")
        found.runs += 1
        checks = run(candidate) & failed
        found.steps.append((what, bool(checks)))
        if checks:
            found.smallest, found.checks = candidate, checks
        return bool(checks)

    try:
        size = max(1, len(found.smallest.faults) // 2)
        while size >= 1 and len(found.smallest.faults) > 1:
            progressed = False
            for chunk in _chunks(found.smallest.faults, size):
                if len(chunk) == len(found.smallest.faults):
                    continue
                rest = [f for f in found.smallest.faults if f not in chunk]
                ids = ", ".join(f.id for f in chunk)
                if still_fails(compacted(found.smallest.with_faults(rest, f"without {ids}")), f"drop {ids}"):
                    progressed = True
                    break
            if not progressed:
                size //= 2
        candidate = compacted(found.smallest)
        if candidate.faults != found.smallest.faults:
            still_fails(candidate, "compact")
        for fault in list(found.smallest.faults):
            candidate = shortened(found.smallest, fault.id)
            if candidate is not None:
                still_fails(candidate, f"shorten {fault.id}")
        for first, second in overlapping(found.smallest):
            if (first, second) not in overlapping(found.smallest):
                continue  # an earlier separation moved them apart already
            if not still_fails(separated(found.smallest, first, second), f"separate {first} and {second}"):
                found.needs.append((first, second))
    except (_Budget, CandidateNotRun) as stop:
        found.stopped = str(stop)
    return found
