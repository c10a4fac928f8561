"""Checkers of a campaign's whole history, beside the order-history ones every campaign gets
(``orders_exactly_once``, ``one_placer_at_a_time``, ``fencing_tokens_monotonic``). They read the
``campaign_fault`` events (``phase`` ``start`` and ``end``, ``fault``, ``fault_kind``, ``family``, the
``resources`` it holds), the
``campaign_ended`` event, the samples and the broker's order records:

- ``campaign_faults_recovered``: faults that overlap form a group; after each group's last fault ended, ``/ready``
  is true again within ``recover_s`` and stays so until the next group begins (a group followed by the next one
  sooner than ``recover_s``, and not back before it, is judged with it, from the later group's end). Each group's detection (the first
  sample not ready after it began; none for a fault the target rides out) and recovery are figures;
- ``campaign_no_order_past_lease``: while Redis was out of reach (a fault holding the ``redis`` resource: a stop, a partition) past the lease
  (``lock_ttl - lock_refresh`` after it began), no order placement reached the broker: another instance could
  hold the lock by then;
- ``campaign_nothing_left``: every fault began and ended as scheduled, and the fault ledger holds nothing of
  the run once the campaign is over.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline

#: The resource of the faults that cut the target off from its Redis (its lock).
LOCK_RESOURCE = "redis"


def campaign_faults(timeline: Timeline) -> List[Dict[str, Any]]:
    """Each fault of the campaign: ``{"id", "kind", "start", "end"}`` (``end`` None when it never ended), in
    start order."""
    found: Dict[str, Dict[str, Any]] = {}
    for event in timeline.events_named("campaign_fault"):
        key = str(event.get("fault"))
        if event.get("phase") == "start":
            found[key] = {"id": key, "kind": str(event.get("fault_kind")), "start": float(event["t"]), "end": None,
                          "resources": [str(r) for r in event.get("resources") or []]}
        elif event.get("phase") == "end" and key in found:
            found[key]["end"] = float(event["t"])
    return sorted(found.values(), key=lambda f: f["start"])


def groups(faults: List[Dict[str, Any]], end_t: float) -> List[Tuple[float, float, List[str]]]:
    """``(start, end, ids)`` of each group of faults that overlap (a fault never ended lasts to ``end_t``)."""
    out: List[Tuple[float, float, List[str]]] = []
    for fault in faults:
        end = fault["end"] if fault["end"] is not None else end_t
        if out and fault["start"] < out[-1][1]:
            start, last, ids = out[-1]
            out[-1] = (start, max(last, end), ids + [fault["id"]])
        else:
            out.append((fault["start"], end, [fault["id"]]))
    return out


def _none(name: str) -> CheckResult:
    return CheckResult(name, "unknown", "no campaign_fault event in the timeline: not a campaign, or no fault began")


def campaign_faults_recovered(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when, after a group of faults ended, ``/ready`` was not true again within ``recover_s`` for good
    (until the next group); unknown when the timeline ends before the deadline (module docstring)."""
    name = "campaign_faults_recovered"
    faults = campaign_faults(timeline)
    if not faults:
        return _none(name)
    spans = groups(faults, timeline.end_t)
    ready = timeline.series("ready") if timeline.samples else []
    figures: Dict[str, float] = {}
    worst: Optional[float] = None
    carried: List[str] = []
    for index, (start, end, ids) in enumerate(spans):
        until = spans[index + 1][0] if index + 1 < len(spans) else timeline.end_t
        ids, carried = carried + ids, []
        label = "+".join(ids)
        down = next((t for t, v in ready if start <= t <= end and v is not True), None)
        if down is not None:
            figures[f"{label}_detect_s"] = round(down - start, 3)
        after = [(t, v) for t, v in ready if end <= t <= until]
        back: Optional[float] = None
        for t, v in after:
            if v is True and back is None:
                back = t
            elif v is not True:
                back = None
        if back is None:
            if until - end < limits.recover_s and index + 1 < len(spans):
                carried = ids  # the next group began before this one had to be back: judged together after it
                continue
            if until - end < limits.recover_s and index + 1 == len(spans):
                return CheckResult(name, "unknown", f"the timeline ends {secs(until - end)} after faults {label} ended, "
                                   f"before /ready had to be back (within {secs(limits.recover_s)})", None,
                                   limits.recover_s, figures)
            return CheckResult(name, "fail", f"/ready was not back for good after faults {label} ended at t={end:.2f} "
                               f"(until t={until:.2f}; limit {secs(limits.recover_s)})", None, limits.recover_s, figures)
        took = round(back - end, 3)
        figures[f"{label}_recover_s"] = took
        if took > limits.recover_s:
            return CheckResult(name, "fail", f"/ready was back {secs(took)} after faults {label} ended (limit "
                               f"{secs(limits.recover_s)})", took, limits.recover_s, figures)
        worst = took if worst is None else max(worst, took)
    return CheckResult(name, "pass", f"/ready back within {secs(worst or 0.0)} at worst after each of {len(spans)} "
                       f"fault group(s) ({len(faults)} faults)", worst, limits.recover_s, figures)


def campaign_no_order_past_lease(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order placement reached the broker while Redis had been out of reach longer than the lease
    could last (module docstring)."""
    name = "campaign_no_order_past_lease"
    faults = [f for f in campaign_faults(timeline) if LOCK_RESOURCE in f["resources"]]
    if not campaign_faults(timeline):
        return _none(name)
    missing = limits.missing(name, "lock_ttl", "lock_refresh")
    if missing is not None:
        return missing
    if timeline.broker is None:
        return CheckResult(name, "unknown", "no broker evidence: the placements are seen at the broker fault proxy")
    budget = max(0.0, limits.lock_ttl - limits.lock_refresh)
    windows = [(f["start"] + budget, f["end"] if f["end"] is not None else timeline.end_t, f) for f in faults]
    windows = [w for w in windows if w[1] > w[0]]
    if not windows:
        return CheckResult(name, "pass", f"no Redis fault of the campaign outlasted the lease ({secs(budget)}): no "
                           "window to judge", 0.0, 0.0)
    for since, until, fault in windows:
        late = [r for r in timeline.broker_records("order") if since <= float(r["t"]) <= until]
        if late:
            return CheckResult(name, "fail", f"{len(late)} order placement(s) reached the broker during {fault['id']} "
                               f"({fault['kind']}) after the lease could have run out (t={since:.2f}), the first at "
                               f"t={float(late[0]['t']):.2f}", float(len(late)), 0.0)
    return CheckResult(name, "pass", f"no placement reached the broker past the lease in {len(windows)} Redis fault "
                       "window(s)", 0.0, 0.0)


def campaign_nothing_left(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a fault could not be injected or ended, or the ledger held something of the run after the
    campaign; unknown when the campaign never said it ended."""
    name = "campaign_nothing_left"
    ended = timeline.events_named("campaign_ended")
    if not ended:
        return CheckResult(name, "unknown", "no campaign_ended event: the campaign did not finish")
    last = ended[-1]
    errors = [str(e) for e in last.get("errors") or []]
    never = [f["id"] for f in campaign_faults(timeline) if f["end"] is None]
    outstanding = int(last.get("outstanding") or 0)
    problems = errors + ([f"faults {', '.join(never)} never ended"] if never else []) + \
        ([f"{outstanding} fault(s) still in the ledger when the campaign ended"] if outstanding else [])
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), float(len(problems)), 0.0)
    return CheckResult(name, "pass", f"{len(campaign_faults(timeline))} faults began and ended; the ledger held "
                       "nothing of the run", 0.0, 0.0)
