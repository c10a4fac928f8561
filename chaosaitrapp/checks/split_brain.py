"""What must hold when the leader among several replicas is paused or cut off from Redis: one trader at
a time, Jepsen-style, judged on the recorded history (:mod:`chaosaitrapp.checks.history`).

The history is the broker fault proxy's ``order`` records of the drill (``t``: when each placement
left the proxy for the broker, after any hold; when it reached the proxy for one that never left; ``instance``, ``fence``: the sender's ``X-AITRAPP-Instance`` / ``X-AITRAPP-Fence``
headers), the orders the target's API acknowledged (the order bursts' ``accepted_ids``), and the
sampled leader gauges of every replica (``replica_leaders``).

- ``one_placer_at_a_time``: no order from an instance after another instance began trading under a
  newer grant (fencing tokens), or, without tokens, inside another instance's span of placements;
  figures ``overlap_orders`` and ``overlap_s`` (the longest stretch from the newer leader's first order
  to an older one's order after it);
- ``fencing_tokens_monotonic``: the fencing tokens of accepted orders never go backwards; ``unknown``
  when no placement carried one (AITRAPP as published sends none: fencing cannot be judged);
- ``orders_once_across_replicas``: no ``client_order_id`` accepted twice at the broker (by any
  replicas), no acknowledged order lost; orders whose placement lost its answer count as
  indeterminate (reported), never as lost or ok;
- ``one_leader_at_a_time``: no sample in which two replicas reported ``trader_is_leader`` 1, allowing
  for the sampling skew (one such sample at a handover, or a run of them no longer than its slowest
  sample's reads took, is excused and counted).

Missing evidence (no broker history, no instance ids, no replica gauges) is ``unknown``, naming it.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from chaosaitrapp.checks.broker import _accepted_ids
from chaosaitrapp.checks.history import Analysis, analyse, placed_at
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import flag_runs, secs, skew_explains
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline
from chaosaitrapp.orderids import tags_by_id


def history_of(timeline: Timeline) -> List[Mapping[str, Any]]:
    """The placements of the drill as :func:`chaosaitrapp.checks.history.analyse` reads them, in time order:
    ``t`` when each left the proxy (``sent_t``; ``arrived_t`` for one that never left), ``dropped`` when its
    answer was lost or never delivered. A record that needs neither is its own placement (not copied: a long
    history costs no second copy of itself); the rest are copied with those two fields set."""
    out: List[Mapping[str, Any]] = []
    for record in timeline.broker_records("order"):
        if "sent_t" not in record and "arrived_t" not in record and record.get("delivered") is not False:
            out.append(record)
            continue
        t = record.get("sent_t", record.get("arrived_t", record["t"]))
        out.append({**record, "t": float(t),
                    "dropped": bool(record.get("dropped")) or record.get("delivered") is False})
    out.sort(key=placed_at)
    return out


def _analysis(timeline: Timeline, limits: Limits) -> Analysis:
    """The history's analysis at the limits' lease, once per timeline and lease (the checks share it)."""
    lease = float("inf") if limits.lock_ttl is None else limits.lock_ttl
    key = ("split_brain_analysis", lease)
    if key not in timeline.derived:
        acknowledged = _accepted_ids(timeline)
        history = history_of(timeline)
        timeline.derived[key] = analyse(history, acknowledged,
                                        tags_by_id(acknowledged, [p.get("tag") or "" for p in history]),
                                        lease_s=lease)
    return timeline.derived[key]


def overlap_windows(timeline: Timeline, lease_s: float) -> List[Tuple[float, float]]:
    """``(from, to)`` of each overlap: from the newer leader's first order to an older leader's order after
    it (what the report shades); empty without broker history."""
    acknowledged = sorted(_accepted_ids(timeline))
    found = analyse(history_of(timeline), acknowledged, lease_s=lease_s).of("overlap")
    return [(round(f.t - f.window_s, 4), f.t) for f in found]


def overlap_shading(timeline: Timeline) -> List[Tuple[float, float]]:
    """The overlap windows the report shades (:func:`overlap_windows`), at the lease the timeline's limits
    recorded (unknown: any later order of another replica); none for a timeline that sampled no replicas."""
    if not timeline.meta.get("replicas"):
        return []
    lease = (timeline.meta.get("limits") or {}).get("lock_ttl")
    return overlap_windows(timeline, float("inf") if lease is None else float(lease))


def _no_history(timeline: Timeline) -> str:
    if not timeline.broker_records("collected"):
        return "no broker history in the timeline (the broker fault proxy's records were not read)"
    return ""


def one_placer_at_a_time(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an instance placed orders while another was trading (module docstring)."""
    name = "one_placer_at_a_time"
    missing = _no_history(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    result = _analysis(timeline, limits)
    if not result.accepted:
        return CheckResult(name, "unknown", "the broker accepted no order during the drill: nothing to judge")
    if result.instances == ["?"]:
        return CheckResult(name, "unknown", f"none of the {result.accepted} accepted placements names its instance "
                           "(X-AITRAPP-Instance): who placed what cannot be told")
    overlaps = result.of("overlap")
    how = "fencing tokens" if result.fenced else "no fencing tokens: placement spans"
    if overlaps and not result.fenced and limits.lock_ttl is None:
        return CheckResult(name, "unknown", f"{len(overlaps)} order(s) of one replica after another began trading, "
                           f"but whether the first could still hold its lease cannot be told: "
                           f"{limits.unknown.get('lock_ttl', 'the lock TTL is unknown')}", float(len(overlaps)), 0.0)
    if overlaps:
        first, last = overlaps[0], overlaps[-1]
        window = max(o.window_s for o in overlaps)
        shown = "; ".join(f"{o.instance} t={o.t:.3f} ({o.detail})" for o in overlaps[:3])
        return CheckResult(name, "fail", f"{len(overlaps)} order(s) placed by one replica while another traded, "
                           f"from t={first.t:.3f} to t={last.t:.3f} (up to {secs(window)} after the newer leader began; {how}): {shown}"
                           + (" ..." if len(overlaps) > 3 else ""), float(len(overlaps)), 0.0,
                           {"overlap_orders": float(len(overlaps)), "overlap_s": round(window, 3)})
    return CheckResult(name, "pass", f"{result.accepted} accepted order(s) from {len(result.instances)} replica(s) "
                       f"({', '.join(result.instances)}), never two at a time ({how})", 0.0, 0.0,
                       {"overlap_orders": 0.0, "overlap_s": 0.0})


def fencing_tokens_monotonic(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a fencing token older than one already accepted was accepted."""
    name = "fencing_tokens_monotonic"
    missing = _no_history(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    result = _analysis(timeline, limits)
    if not result.fenced:
        return CheckResult(name, "unknown", f"none of the {result.accepted} accepted placements carried a fencing "
                           "token (X-AITRAPP-Fence): without tokens the broker cannot refuse a deposed leader")
    stale = result.of("stale_fence")
    if stale:
        return CheckResult(name, "fail", f"{len(stale)} placement(s) accepted with a stale token: "
                           + "; ".join(f"{s.instance} t={s.t:.3f} {s.detail}" for s in stale[:3]),
                           float(len(stale)), 0.0)
    return CheckResult(name, "pass", f"the fencing tokens of {result.accepted} accepted order(s) never went backwards",
                       0.0, 0.0)


def orders_once_across_replicas(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when an order was accepted twice at the broker or an acknowledged one never reached it."""
    name = "orders_once_across_replicas"
    missing = _no_history(timeline)
    if missing:
        return CheckResult(name, "unknown", missing)
    acknowledged = _accepted_ids(timeline)
    result = _analysis(timeline, limits)
    if not acknowledged and not result.accepted:
        return CheckResult(name, "unknown", "no order was acknowledged by the target nor accepted by the broker")
    problems = result.of("duplicate") + result.of("lost")
    unknown = f"; {len(result.indeterminate)} indeterminate (their placement's answer was lost)" \
        if result.indeterminate else ""
    if problems:
        shown = "; ".join(f"{p.kind} {p.tag[:24]}: {p.detail}" for p in problems[:3])
        return CheckResult(name, "fail", f"{len(problems)} order(s) not exactly once across the replicas: {shown}"
                           + (" ..." if len(problems) > 3 else "") + unknown, float(len(problems)), 0.0)
    return CheckResult(name, "pass", f"{len(acknowledged)} acknowledged order(s), {result.accepted} accepted "
                       f"placement(s), none twice, none lost{unknown}", 0.0, 0.0)


def _leaders(sample: Mapping[str, Any]) -> List[str]:
    values = sample.get("replica_leaders")
    return sorted(k for k, v in values.items() if v == 1.0) if isinstance(values, dict) else []


def one_leader_at_a_time(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when two replicas reported leader 1 at once beyond what the sampling skew explains."""
    name = "one_leader_at_a_time"
    samples = [s for s in timeline.samples if isinstance(s.get("replica_leaders"), dict)]
    if not samples:
        return CheckResult(name, "unknown", "no sample read the replicas' leader gauges (replica_leaders)")
    flags = [len(_leaders(s)) > 1 for s in samples]
    counted: List[Dict[str, Any]] = []
    excused = 0
    for i, j in flag_runs(flags):
        run = samples[i:j + 1]
        before = _leaders(samples[i - 1]) if i > 0 else []
        after = _leaders(samples[j + 1]) if j + 1 < len(samples) else []
        handover = bool(before) and bool(after) and before != after
        if handover and skew_explains(run):
            excused += len(run)
        else:
            counted += run
    note = f"; {excused} sample(s) at a handover excused (read skew)" if excused else ""
    if counted:
        first = counted[0]
        return CheckResult(name, "fail", f"{', '.join(_leaders(first))} all reported leader 1 at t={float(first['t']):.2f} "
                           f"({len(counted)} sample(s)){note}", float(len(counted)), 0.0)
    return CheckResult(name, "pass", f"at most one replica reported leader 1 on each of {len(samples)} samples{note}",
                       0.0, 0.0)
