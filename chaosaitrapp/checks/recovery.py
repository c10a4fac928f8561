"""Did the service come back by itself, quickly and for good?

- ``time_to_recover_ready``: from the restore (the last ``restored`` event, else ``restore``) to
  the *recovery instant*: the first sample from which ``ready`` is true on every later sample to
  the end of the timeline. A service that comes back, drops again and comes back later is timed
  to its last return (and :func:`flaps` reports the relapse). Limit ``recover_s``.
- ``time_to_recover_resume``: the same for ``paused`` false.
- ``total_unavailability``: seconds with ``ready`` not true (false, or null: /ready unreadable)
  over the whole timeline, each sample holding until the next one. Limit ``unavailability_s``,
  or when that is None the fault windows' total length (fault -> restored) plus ``recover_s``.
- ``flaps``: true -> false transitions of ``ready`` from the first fault to the end, beyond one
  per fault window (a drop before the restore after a return, or any drop after recovery).
  Limit ``max_flaps``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from chaosaitrapp.checks.detection import measure_detect
from chaosaitrapp.checks.events import fault_ref, restore_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import Measure, Wording, largest_gap, secs, time_to_stable
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline, number

READY_BACK = Wording(hit="/ready was ready again", never="/ready never became ready again for good",
                     steady="/ready was ready")
RESUMED = Wording(hit="the orchestrator resumed", never="the orchestrator never resumed for good",
                  steady="the orchestrator was running")


def measure_recover(timeline: Timeline, limits: Limits, field: str) -> Measure:
    """The recovery timing of ``field`` (``"ready"`` true for good, or ``"paused"`` false for good)."""
    restore = restore_ref(timeline)
    if restore is None:
        reason = "no restored or restore event in the timeline" if fault_ref(timeline) else \
            "no fault event and no restored event in the timeline"
        return Measure("unknown", None, None, reason)
    if field == "ready":
        pred, words = (lambda v: v is True), READY_BACK
    else:
        pred, words = (lambda v: v is False), RESUMED
    return time_to_stable(timeline.series(field), restore.t, restore.label, pred, words,
                          limits.recover_s, limits.max_sample_gap_s, timeline.end_t)


def time_to_recover_ready(timeline: Timeline, limits: Limits) -> CheckResult:
    """Seconds from the restore to ``ready`` true for good (module docstring), <= ``recover_s``."""
    return measure_recover(timeline, limits, "ready").result("time_to_recover_ready", limits.recover_s)


def time_to_recover_resume(timeline: Timeline, limits: Limits) -> CheckResult:
    """Seconds from the restore to ``paused`` false for good, <= ``recover_s``."""
    return measure_recover(timeline, limits, "paused").result("time_to_recover_resume", limits.recover_s)


def total_unavailability(timeline: Timeline, limits: Limits) -> CheckResult:
    """Seconds with ``ready`` not true over the timeline, <= ``unavailability_s`` (or derived)."""
    name = "total_unavailability"
    windows = timeline.fault_windows()
    limit = limits.unavailability_s
    derived = ""
    if limit is None:
        if not windows:
            return CheckResult(name, "unknown", "no fault event to derive the unavailability limit from")
        held = sum((end if end is not None else timeline.end_t) - start for start, end, _ in windows)
        limit = round(held + limits.recover_s, 3)
        derived = f" = fault held {secs(held)} + recover {secs(limits.recover_s)}"
    samples = timeline.samples
    if not samples:
        return CheckResult(name, "unknown", "no samples in the timeline", None, limit)
    times = [float(s["t"]) for s in samples] + [timeline.end_t]
    down = 0.0
    holes: List[float] = []
    for sample, t, nxt in zip(samples, times, times[1:]):
        span = max(0.0, nxt - t)
        if span > limits.max_sample_gap_s:
            holes.append(span)
            continue
        if sample.get("ready") is not True:
            down += span
    down = round(down, 3)
    if down > limit:
        return CheckResult(name, "fail", f"/ready was not ready for {secs(down)} in total: more than "
                           f"the limit {secs(limit)}{derived}", down, limit)
    if holes:
        return CheckResult(name, "unknown", f"/ready was not ready for {secs(down)} in the sampled time, but "
                           f"{len(holes)} hole(s) in the samples (longest {secs(max(holes))}, max gap "
                           f"{secs(limits.max_sample_gap_s)}) are unaccounted for (limit {secs(limit)})",
                           down, limit)
    return CheckResult(name, "pass", f"/ready was not ready for {secs(down)} in total "
                       f"(limit {secs(limit)}{derived})", down, limit)


def flaps(timeline: Timeline, limits: Limits) -> CheckResult:
    """Extra readiness drops after the first fault (module docstring), <= ``max_flaps``."""
    name = "flaps"
    limit = float(limits.max_flaps)
    fault = fault_ref(timeline)
    if fault is None:
        return CheckResult(name, "unknown", "no fault event: cannot tell a flap from an expected drop",
                           None, limit)
    reads = timeline.series("ready")
    spans = {float(x["t"]): (number(x.get("latency_ms")) or 0.0) / 1000.0 for x in timeline.samples}
    before = [v for t, v in reads if t < fault.t]
    after = [(t, v) for t, v in reads if t >= fault.t]
    state: Optional[Any] = before[-1] if before else None
    state_ends = float("-inf")  # when the read that set ``state`` may have happened, at the latest
    drops: List[float] = []
    for t, value in after:
        if value is not state and t < state_ends:
            continue  # reads in flight together (up to max_in_flight): this one may have come first
        if state is True and value is False:
            drops.append(t)
        state, state_ends = value, max(state_ends, t + spans.get(t, 0.0)) if value is state else t + spans.get(t, 0.0)
    allowed = max(1, len(timeline.fault_windows()))
    extra = max(0, len(drops) - allowed)
    listing = ", ".join(f"t={t:.2f}" for t in drops[:6]) + (" ..." if len(drops) > 6 else "")
    if extra > limits.max_flaps:
        return CheckResult(name, "fail", f"/ready dropped {len(drops)} times after the fault ({listing}) "
                           f"for {allowed} fault window(s): {extra} flap(s), more than the limit "
                           f"{limits.max_flaps}", float(extra), limit)
    if not after:
        return CheckResult(name, "unknown", f"no /ready sample after {fault.label}", None, limit)
    gap = largest_gap([t for t, _ in after], fault.t, timeline.end_t)
    if gap[0] > limits.max_sample_gap_s:
        return CheckResult(name, "unknown", f"{extra} flap(s) seen, but no /ready sample for {secs(gap[0])} "
                           f"from t={gap[1]:.2f} (max gap {secs(limits.max_sample_gap_s)}): a flap could hide "
                           f"there", float(extra), limit)
    seen = f"{len(drops)} drop(s) ({listing})" if drops else "no drop"
    return CheckResult(name, "pass", f"/ready: {seen} for {allowed} fault window(s): {extra} flap(s) "
                       f"(limit {limits.max_flaps})", float(extra), limit)


def recovery_marks(timeline: Timeline, limits: Optional[Limits] = None) -> Dict[str, Any]:
    """The instants (``t``) to mark on a chart, each None when not found:

    ``fault`` (first fault event), ``detect`` (ready false), ``detect_pause`` (paused),
    ``restore`` (restored), ``recover`` (ready true for good), ``recover_resume`` (paused
    false for good), the matching durations ``detect_s``, ``detect_pause_s``, ``recover_s``,
    ``recover_resume_s``, and ``windows``: ``[[start, end_or_None, detail], ...]``.
    Instants are reported even when the timing itself is ``unknown``.
    """
    limits = limits or Limits.from_meta(timeline.meta)
    fault, restore = fault_ref(timeline), restore_ref(timeline)
    detect = measure_detect(timeline, limits, "ready")
    pause = measure_detect(timeline, limits, "paused")
    recover = measure_recover(timeline, limits, "ready")
    resume = measure_recover(timeline, limits, "paused")
    return {
        "fault": fault.t if fault else None,
        "detect": detect.instant,
        "detect_s": detect.value,
        "detect_pause": pause.instant,
        "detect_pause_s": pause.value,
        "restore": restore.t if restore else None,
        "recover": recover.instant,
        "recover_s": recover.value,
        "recover_resume": resume.instant,
        "recover_resume_s": resume.value,
        "windows": [[start, end, event.get("detail")] for start, end, event in timeline.fault_windows()],
    }
