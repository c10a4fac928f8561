"""Checkers of the stress drills: the target starved of CPU or pressed for memory must keep beating, answer
in time, place orders in time, keep its leadership, survive, give its memory back, and the stress
itself must end when it should.

The stress window runs from the first stress ``fault_injected`` event to the last stress ``restored``
event (the timeline's end when there is none). Every verdict reads the timeline only:

- ``heartbeats_under_stress``: each heartbeat's *effective* age on every sample from the stress start
  must stay below ``HEARTBEAT_MAX``; with ``heartbeat_recover_s`` set, it may pass it during the stress
  but must be below it again that long after the stress ended. The effective age is the gauge's value,
  plus the wall time since that value *last changed* when it stops moving, plus the time since the last
  reading when ``/metrics`` answers nothing: a starved process that reports a stale (or no) age still
  shows its stall on the sampler's own clock.
- ``latency_under_stress``: ``/ready`` and ``/health`` read durations (the samples' ``ready_ms``,
  ``health_ms``; a timed-out read counts its whole wait) during the stress, p99 against ``ready_p99_ms``.
- ``order_latency_under_stress``: p99 of the orders placed between the snapshot before the stress and
  the first one after it, from the *delta* of the ``trader_order_latency_ms`` buckets (never the
  cumulative histogram), against ``order_p99_ms``.
- ``no_leader_flap``: ``trader_leader_changes_total`` and ``trader_kill_switch_total{reason=
  "leader_lock_lost"}`` unchanged between those snapshots, and no sample during the stress with leader
  other than 1.
- ``target_survived``: the target process (pid and start time) is the same on every sample: no restart,
  no OOM kill (the cgroup's OOM kills are named when the process changed).
- ``memory_settles``: the target's RSS at the end is within ``memory_growth_mb`` of its RSS before the
  stress (a leak keeps what it took).
- ``stress_bounded``: no stressor ran past its time (``stress_overran`` events) and each one ended.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import percentile, quantile_of_delta, secs
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline

HEARTBEAT_FIELDS = {"md_hb": "market-data", "order_hb": "order-stream", "scan_hb": "scan"}


def stress_window(timeline: Timeline) -> Optional[Tuple[float, float]]:
    """``(start, end)`` of the stress (module docstring), or None when no stressor was started."""
    started = [float(e["t"]) for e in timeline.events_named("fault_injected") if e.get("stress")]
    if not started:
        return None
    ended = [float(e["t"]) for e in timeline.events_named("restored") if e.get("stress")]
    end = max(ended) if ended and max(ended) >= min(started) else timeline.end_t
    return min(started), end


def _no_stress(name: str) -> CheckResult:
    return CheckResult(name, "unknown", "no stressor was started in this run (no stress fault_injected event)")


def effective_ages(timeline: Timeline, field: str) -> List[Tuple[float, Optional[float]]]:
    """``(t, effective age)`` of heartbeat ``field`` on every sample (module docstring); None before the
    first reading."""
    out: List[Tuple[float, Optional[float]]] = []
    last_value: Optional[float] = None
    changed_t = 0.0
    for sample in timeline.samples:
        t = float(sample["t"])
        value = sample.get(field)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value != last_value:
                last_value, changed_t = float(value), t
                out.append((t, float(value)))
            else:
                out.append((t, float(value) + (t - changed_t)))
        elif last_value is not None:
            out.append((t, last_value + (t - changed_t)))
        else:
            out.append((t, None))
    return out


def heartbeats_under_stress(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a heartbeat's effective age reached ``HEARTBEAT_MAX`` during the stress (or, with
    ``heartbeat_recover_s``, was not below it again that long after the stress)."""
    recover_after = limits.budget("heartbeat_recover_s")
    name = "heartbeats_under_stress"
    window = stress_window(timeline)
    if window is None:
        return _no_stress(name)
    start, end = window
    allowed_from = start if recover_after is None else end + recover_after
    figures: Dict[str, float] = {}
    worst: Optional[Tuple[float, float, str]] = None
    seen = 0
    for field, label in HEARTBEAT_FIELDS.items():
        every = [(t, a) for t, a in effective_ages(timeline, field) if a is not None]
        ages = [(t, a) for t, a in every if t >= start]
        if not ages:
            continue
        seen += 1
        figures[f"{field}_max_s"] = round(max(a for _, a in ages), 3)
        before = [a for t, a in every if t < start]
        if before:
            figures[f"{field}_max_before_s"] = round(max(before), 3)
        for t, age in ages:
            if t >= allowed_from and age >= limits.heartbeat_max and (worst is None or age > worst[1]):
                worst = (t, age, label)
    if not seen:
        return CheckResult(name, "unknown", "no heartbeat was read during the stress")
    top = max(figures[f"{f}_max_s"] for f in HEARTBEAT_FIELDS if f"{f}_max_s" in figures)
    if timeline.end_t < allowed_from:
        return CheckResult(name, "unknown", f"the timeline ends at t={timeline.end_t:.2f}, before the heartbeats "
                           f"had to be fresh again (t={allowed_from:.2f})", round(top, 3), limits.heartbeat_max, figures)
    if worst is not None:
        when = "during the stress" if worst[0] <= end else f"{secs(worst[0] - end)} after the stress ended"
        return CheckResult(name, "fail", f"the {worst[2]} heartbeat was {secs(worst[1])} old at t={worst[0]:.2f} "
                           f"{when} (HEARTBEAT_MAX {limits.heartbeat_max:g}s): the process stalled",
                           round(worst[1], 3), limits.heartbeat_max, figures)
    rule = "throughout the stress" if recover_after is None else \
        f"again {secs(recover_after)} after the stress"
    return CheckResult(name, "pass", f"every heartbeat below {limits.heartbeat_max:g}s {rule} (oldest {secs(top)})",
                       round(top, 3), limits.heartbeat_max, figures)


def latency_under_stress(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the p99 of ``/ready`` or ``/health`` read durations during the stress is over ``ready_p99_ms``."""
    budget_ms = limits.budget("ready_p99_ms")
    name = "latency_under_stress"
    window = stress_window(timeline)
    if window is None:
        return _no_stress(name)
    start, end = window
    inside = [s for s in timeline.samples if start <= float(s["t"]) <= end]
    figures: Dict[str, float] = {}
    for key in ("ready_ms", "health_ms"):
        values = [float(s[key]) for s in inside if isinstance(s.get(key), (int, float))]
        outside = [float(s[key]) for s in timeline.samples if float(s["t"]) < start
                   and isinstance(s.get(key), (int, float))]
        if values:
            figures[f"{key[:-3]}_p50_ms"] = round(percentile(values, 0.5), 2)
            figures[f"{key[:-3]}_p99_ms"] = round(percentile(values, 0.99), 2)
        if outside:
            figures[f"{key[:-3]}_p99_before_ms"] = round(percentile(outside, 0.99), 2)
    if "ready_p99_ms" not in figures or "health_p99_ms" not in figures:
        return CheckResult(name, "unknown", "no timed /ready and /health reads during the stress (an older timeline?)",
                           figures=figures or None)
    worst = max(("ready", figures["ready_p99_ms"]), ("health", figures["health_p99_ms"]), key=lambda x: x[1])
    text = (f"/ready p99 {figures['ready_p99_ms']:g} ms, /health p99 {figures['health_p99_ms']:g} ms over "
            f"{len(inside)} samples of stress (p50 {figures['ready_p50_ms']:g}/{figures['health_p50_ms']:g} ms)")
    verdict = "fail" if worst[1] > budget_ms else "pass"
    return CheckResult(name, verdict, text + (f": over the {budget_ms:g} ms budget" if verdict == "fail" else ""),
                       worst[1], budget_ms, figures)


def _snapshots(timeline: Timeline) -> List[Dict[str, Any]]:
    return [e for e in timeline.events_named("snapshot")]


def _around(timeline: Timeline, window: Tuple[float, float]) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """The last snapshot before the stress began and the first one after it ended."""
    start, end = window
    snaps = _snapshots(timeline)
    before = [s for s in snaps if float(s["t"]) <= start]
    after = [s for s in snaps if float(s["t"]) >= end]
    return (before[-1] if before else None), (after[0] if after else None)


def order_latency_under_stress(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the p99 placement latency of the orders placed around the stress is over ``order_p99_ms``."""
    budget_ms = limits.budget("order_p99_ms")
    name = "order_latency_under_stress"
    window = stress_window(timeline)
    if window is None:
        return _no_stress(name)
    before, after = _around(timeline, window)
    if before is None or after is None:
        return CheckResult(name, "unknown", "no snapshot_metrics before and after the stress: the histogram deltas "
                           "cannot be taken")
    old, new = before.get("order_latency"), after.get("order_latency")
    if not isinstance(new, dict):
        return CheckResult(name, "unknown", "the target has no trader_order_latency_ms histogram")
    count = float(new.get("count") or 0) - float((old or {}).get("count") or 0)
    p99 = quantile_of_delta(old if isinstance(old, dict) else None, new, 0.99)
    p50 = quantile_of_delta(old if isinstance(old, dict) else None, new, 0.5)
    between = f"snapshots {before.get('label')!r} and {after.get('label')!r}"
    if p99 is None:
        return CheckResult(name, "unknown", f"no order placed between {between} (or the histogram was reset: a "
                           "restart): nothing to judge")
    figures = {"orders": count, "order_p50_ms": round(p50 or 0.0, 2), "order_p99_ms": round(p99, 2)}
    text = f"order placement p99 {p99:.1f} ms (p50 {p50:.1f}) over {count:g} order(s) between {between}"
    if p99 > budget_ms:
        return CheckResult(name, "fail", text + f": over the {budget_ms:g} ms budget", round(p99, 2),
                           budget_ms, figures)
    return CheckResult(name, "pass", text, round(p99, 2), budget_ms, figures)


def no_leader_flap(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the leadership counters moved between the snapshots around the stress, or a sample during it
    read leader other than 1."""
    name = "no_leader_flap"
    window = stress_window(timeline)
    if window is None:
        return _no_stress(name)
    start, end = window
    lost = [s for s in timeline.samples if start <= float(s["t"]) <= end and s.get("leader") not in (None, 1, 1.0)]
    if lost:
        return CheckResult(name, "fail", f"leader read {lost[0].get('leader')} at t={float(lost[0]['t']):.2f} during "
                           f"the stress ({len(lost)} sample(s)): the lock slipped", float(len(lost)), 0.0)
    before, after = _around(timeline, window)
    if before is None or after is None:
        return CheckResult(name, "unknown", "no snapshot_metrics before and after the stress: the leadership "
                           "counters cannot be compared")
    moved = []
    for key, metric in (("leader_changes", "trader_leader_changes_total"),
                        ("lock_lost", 'trader_kill_switch_total{reason="leader_lock_lost"}')):
        a, b = before.get(key), after.get(key)
        if a is None or b is None:
            return CheckResult(name, "unknown", f"{metric} missing from a snapshot: cannot tell whether it moved")
        if b != a:
            moved.append(f"{metric} {a:g} -> {b:g}")
    if moved:
        return CheckResult(name, "fail", "leadership flapped under the stress: " + "; ".join(moved), float(len(moved)), 0.0)
    return CheckResult(name, "pass", f"leader 1 on every sample of the stress; leader changes and lock losses unchanged "
                       f"between {before.get('label')!r} and {after.get('label')!r}", 0.0, 0.0)


def _process(identity: Any) -> str:
    """``pid N`` for a process, the container's identity as it is for a pod."""
    return f"pid {identity}" if isinstance(identity, int) else f"container {identity}"


def target_survived(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the target process changed (restart) or vanished (killed) during the run."""
    name = "target_survived"
    readings = [(float(s["t"]), s.get("proc_pid"), s.get("proc_started"), s.get("oom_kills"))
                for s in timeline.samples if "proc_pid" in s]
    if not readings:
        return CheckResult(name, "unknown", "the timeline has no reading of the target process (TARGET_PROCESS)")
    first = next((r for r in readings if r[1] is not None), None)
    if first is None:
        return CheckResult(name, "unknown", "the target process was never found running")
    ooms = [r[3] for r in readings if isinstance(r[3], (int, float))]
    oom_delta = (max(ooms) - min(ooms)) if ooms else None
    figures = {"oom_kills_in_cgroup": float(oom_delta)} if oom_delta is not None else None
    for t, pid, started, _ in readings:
        if t < first[0]:
            continue
        if pid is None or (pid, started) != (first[1], first[2]):
            what = "was gone" if pid is None else f"was {_process(pid)} (started {started})"
            why = f"; the kernel OOM-killed {oom_delta:g} process(es) in its cgroup" if oom_delta else ""
            return CheckResult(name, "fail", f"the target ({_process(first[1])}) {what} at t={t:.2f}: it died or restarted "
                               f"under the stress{why}", 1.0, 0.0, figures)
    others = f"; {oom_delta:g} other process(es) of its cgroup OOM-killed (the stressors)" if oom_delta else ""
    return CheckResult(name, "pass", f"the same process ({_process(first[1])}) on all {len(readings)} samples{others}",
                       0.0, 0.0, figures)


def memory_settles(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when the target's RSS at the end is more than ``memory_growth_mb`` above its RSS before the stress."""
    budget_mb = limits.budget("memory_growth_mb")
    name = "memory_settles"
    window = stress_window(timeline)
    if window is None:
        return _no_stress(name)
    start, _ = window
    rss = [(float(s["t"]), float(s["rss_mb"])) for s in timeline.samples if isinstance(s.get("rss_mb"), (int, float))]
    before = [v for t, v in rss if t < start]
    if not before or not rss or rss[-1][0] <= start:
        return CheckResult(name, "unknown", "no RSS reading of the target before and after the stress")
    base, last, peak = before[-1], rss[-1][1], max(v for _, v in rss)
    figures = {"rss_before_mb": base, "rss_peak_mb": peak, "rss_end_mb": last}
    growth = last - base
    text = f"RSS {base:.0f} MiB before the stress, {peak:.0f} MiB at most, {last:.0f} MiB at the end"
    if growth > budget_mb:
        return CheckResult(name, "fail", text + f": {growth:.0f} MiB kept (more than {budget_mb:g}): a leak",
                           round(growth, 1), budget_mb, figures)
    return CheckResult(name, "pass", text, round(growth, 1), budget_mb, figures)


def stress_bounded(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when a stressor ran past its time or never ended (a fault left in place)."""
    name = "stress_bounded"
    started = [e for e in timeline.events_named("fault_injected") if e.get("stress")]
    if not started:
        return _no_stress(name)
    over = timeline.events_named("stress_overran")
    if over:
        return CheckResult(name, "fail", f"{len(over)} stressor(s) outlived their time: {over[0].get('detail')}",
                           float(len(over)), 0.0)
    ended = [e for e in timeline.events_named("restored") if e.get("stress")]
    if len(ended) < len(started):
        return CheckResult(name, "fail", f"{len(started) - len(ended)} of {len(started)} stressor(s) never ended in "
                           "the run (the watchdog ends them at their lease)", float(len(started) - len(ended)), 0.0)
    return CheckResult(name, "pass", f"{len(started)} stressor(s), each ended within its time", 0.0, 0.0)
