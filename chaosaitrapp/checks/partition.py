"""What must hold when the path to a dependency is cut or slowed while the dependency keeps running.

- ``trading_stopped_before_lease_expiry``: after the partition from Redis began, the orchestrator
  paused (trading stopped) before the leader lock's lease could have run out: at the earliest
  ``lock_ttl - lock_refresh`` after the partition began (the last refresh was at most one period
  before it). The margin is the evidence: a lease that runs out while the instance still trades is
  how a TTL lock without fencing lets two instances trade at once;
- ``no_order_after_lease_expiry``: no order placement reached the broker (the broker fault proxy's
  records) from that instant until the partition healed, when orders were offered meanwhile;
- ``acknowledged_orders_stored_once``: after a partition from Postgres healed, every order the API
  acknowledged is stored exactly once (``client_order_id`` rows counted in Postgres), and no other
  order of the drill more than once (an order the API could not acknowledge may or may not have been
  stored: its fate was unknown to the client, so it may be there once);
- ``no_leadership_loss``: while the path was only slowed (below the target's timeouts), the instance
  stayed leader, ready and unpaused on every sample.

Evidence missing (no partition event, no broker records, no orders offered in the window, no
Postgres counts) makes a check ``unknown``, naming what is missing.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp.checks.events import restore_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import largest_gap, secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import FAULT_EVENTS, Timeline


def partition_ref(timeline: Timeline, dependency: Optional[str] = None) -> Optional[Tuple[float, str]]:
    """``(t, label)`` of the first fault event of a partition (of ``dependency`` when given)."""
    for event in timeline.events_named(*FAULT_EVENTS):
        if event.get("target") == "orders":
            continue
        if dependency is None or event.get("dependency") == dependency:
            return float(event["t"]), (f"the {event.get('fault_name') or 'partition'} of "
                                       f"{event.get('dependency') or 'the dependency'} (t={float(event['t']):.2f})")
    return None


def _budget(limits: Limits) -> float:
    return max(0.0, limits.lock_ttl - limits.lock_refresh)


def trading_stopped_before_lease_expiry(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when trading had not stopped (``paused``) by the earliest instant the lease could expire."""
    name = "trading_stopped_before_lease_expiry"
    missing = limits.missing(name, "lock_ttl", "lock_refresh")
    if missing is not None:
        return missing
    budget = _budget(limits)
    ref = partition_ref(timeline, "redis") or partition_ref(timeline)
    if ref is None:
        return CheckResult(name, "unknown", "no partition event in the timeline", None, budget)
    start, label = ref
    expiry = start + budget
    lease = f"the lease could run out {secs(budget)} after it (TTL {secs(limits.lock_ttl)} - refresh " \
            f"{secs(limits.lock_refresh)})"
    paused = [(t, v) for t, v in timeline.series("paused") if t >= start]
    first = next((t for t, v in paused if v is True), None)
    if first is not None and first < expiry:
        gap = largest_gap([t for t, _ in paused if t <= first], start, first)
        if gap[0] > limits.max_sample_gap_s:
            return CheckResult(name, "unknown", f"paused at t={first:.2f}, but no sample for {secs(gap[0])} before it: "
                               "when trading stopped cannot be told", round(first - start, 3), budget)
        return CheckResult(name, "pass", f"trading stopped {secs(first - start)} after {label}; {lease}: a margin of "
                           f"{secs(expiry - first)}", round(first - start, 3), budget)
    covered = [t for t, _ in paused if t <= expiry]
    if timeline.end_t < expiry:
        return CheckResult(name, "unknown", f"the timeline ends at t={timeline.end_t:.2f}, before {lease}, and trading "
                           "had not stopped", None, budget)
    gap = largest_gap(covered, start, expiry)
    if gap[0] > limits.max_sample_gap_s and first is None:
        return CheckResult(name, "unknown", f"no sample for {secs(gap[0])} from t={gap[1]:.2f}: a pause could hide "
                           "there", None, budget)
    when = f"only {secs(first - start)} after it" if first is not None else "never"
    return CheckResult(name, "fail", f"trading did not stop before the lease could run out: {lease}, yet the "
                       f"orchestrator paused {when} ({label})", None if first is None else round(first - start, 3),
                       budget)


def _offered(timeline: Timeline) -> List[Tuple[float, float]]:
    """``(start, end)`` of each order burst (its fault and fault_injected events on ``orders``)."""
    spans: List[Tuple[float, float]] = []
    begun: Optional[float] = None
    for event in timeline.events_named(*FAULT_EVENTS):
        if event.get("target") != "orders":
            continue
        if event.get("event") == "fault":
            begun = float(event["t"])
        elif begun is not None:
            spans.append((begun, float(event["t"])))
            begun = None
    if begun is not None:
        spans.append((begun, timeline.end_t))
    return spans


def no_order_after_lease_expiry(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order placement reached the broker after the lease could have run out and before
    the partition healed."""
    name = "no_order_after_lease_expiry"
    missing = limits.missing(name, "lock_ttl", "lock_refresh")
    if missing is not None:
        return missing
    budget = _budget(limits)
    ref = partition_ref(timeline, "redis") or partition_ref(timeline)
    if ref is None:
        return CheckResult(name, "unknown", "no partition event in the timeline")
    if timeline.broker is None:
        return CheckResult(name, "unknown", "no broker evidence: the orders the target placed are seen at the broker "
                           "fault proxy (set BROKER_PROXY, or run against the lab)")
    start, label = ref
    expiry = start + budget
    heal = restore_ref(timeline)
    end = heal.t if heal is not None and heal.t > start else timeline.end_t
    if end <= expiry:
        return CheckResult(name, "unknown", f"the partition healed at t={end:.2f}, before the lease could run out "
                           f"(t={expiry:.2f}): hold it longer than TTL - refresh")
    if not any(a <= end and b >= expiry for a, b in _offered(timeline)):
        return CheckResult(name, "unknown", f"no order was offered between t={expiry:.2f} (the lease could have run "
                           f"out) and t={end:.2f} (the heal): nothing to judge")
    late = [r for r in timeline.broker_records("order") if expiry <= float(r["t"]) <= end]
    if late:
        first = late[0]
        return CheckResult(name, "fail", f"{len(late)} order placement(s) reached the broker after the lease could "
                           f"have run out ({secs(budget)} after {label}), the first at t={float(first['t']):.2f} (tag "
                           f"{first.get('tag')}): another instance may have held the lock by then", float(len(late)), 0.0)
    return CheckResult(name, "pass", f"no order reached the broker from t={expiry:.2f} (the lease could have run out) "
                       f"to the heal at t={end:.2f}", 0.0, 0.0)


def acknowledged_orders_stored_once(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an acknowledged order is not stored exactly once, or any order of the drill twice."""
    name = "acknowledged_orders_stored_once"
    record: Dict[str, Any] = timeline.orders or {}
    counts = record.get("sql_counts")
    if not isinstance(counts, dict):
        errors = record.get("errors") or ["no database URL to count the orders in (DATABASE_URL, or the lab's)"]
        return CheckResult(name, "unknown", f"no Postgres counts of the drill's orders: {errors[0]}")
    acked = set()
    for event in timeline.events_named(*FAULT_EVENTS):
        if event.get("target") == "orders" and isinstance(event.get("accepted_ids"), list):
            acked.update(str(i) for i in event["accepted_ids"])
    offered = sum(1 for _ in _offered(timeline))
    if not offered:
        return CheckResult(name, "unknown", "no order was offered during the drill: nothing to count")
    lost = sorted(i for i in acked if counts.get(i, 0) == 0)
    doubled = sorted(i for i, n in counts.items() if n > 1)
    unsure = sorted(i for i in counts if i not in acked)
    if lost or doubled:
        parts = []
        if lost:
            parts.append(f"{len(lost)} acknowledged order(s) missing from Postgres ({', '.join(lost[:3])})")
        if doubled:
            parts.append(f"{len(doubled)} stored more than once ({', '.join(doubled[:3])})")
        return CheckResult(name, "fail", "; ".join(parts), float(len(lost) + len(doubled)), 0.0)
    return CheckResult(name, "pass", f"all {len(acked)} acknowledged order(s) stored exactly once; {len(unsure)} "
                       f"unacknowledged (their fate was unknown to the client) stored once each", 0.0, 0.0)


def no_leadership_loss(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when, between the slowdown's start and its heal, a sample showed leader other than 1,
    ``/ready`` not ready or the orchestrator paused."""
    name = "no_leadership_loss"
    ref = partition_ref(timeline)
    if ref is None:
        return CheckResult(name, "unknown", "no slowdown event in the timeline")
    start, label = ref
    heal = restore_ref(timeline)
    end = heal.t if heal is not None and heal.t > start else timeline.end_t
    window = [s for s in timeline.samples if start <= float(s["t"]) <= end]
    bad = [s for s in window if s.get("leader") not in (None, 1, 1.0) or s.get("ready") is False
           or s.get("paused") is True]
    if bad:
        first = bad[0]
        return CheckResult(name, "fail", f"the instance lost its footing under the slowdown: at t={float(first['t']):.2f} "
                           f"leader {first.get('leader')}, ready {first.get('ready')}, paused {first.get('paused')} "
                           f"({len(bad)} sample(s)); below the target's timeouts nothing should change", float(len(bad)), 0.0)
    gap = largest_gap([float(s["t"]) for s in window], start, end)
    if not window or gap[0] > limits.max_sample_gap_s:
        return CheckResult(name, "unknown", f"no sample for {secs(gap[0])} from t={gap[1]:.2f} during the slowdown")
    return CheckResult(name, "pass", f"leader, ready and trading on all {len(window)} samples of the slowdown "
                       f"({label} to t={end:.2f})", 0.0, 0.0)
