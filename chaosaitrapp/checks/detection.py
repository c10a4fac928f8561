"""Did the service notice the fault, and how fast? Timed from the first fault event.

- ``time_to_detect_ready``: to the first sample where ``/ready`` said not ready (``ready`` false);
- ``time_to_detect_pause``: to the first sample where the orchestrator was paused (``paused`` true).

Both against ``limits.detect_s``; ``unknown`` without a fault event, when the state already held
before the fault, or when a hole in the samples (> ``limits.max_sample_gap_s``) hides the answer. A sample in
flight at the fault counts at its last answer (:meth:`Timeline.series_around`), never as the state before it.
"""
from __future__ import annotations

from chaosaitrapp.checks.events import fault_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import Measure, Wording, time_to_first
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline

READY_FALSE = Wording(hit="/ready went not-ready", never="/ready never went not-ready",
                      already="/ready was already not-ready")
PAUSED_TRUE = Wording(hit="the orchestrator paused", never="the orchestrator never paused",
                      already="the orchestrator was already paused")


def measure_detect(timeline: Timeline, limits: Limits, field: str) -> Measure:
    """The detection timing of ``field`` (``"ready"`` going false or ``"paused"`` going true)."""
    fault = fault_ref(timeline)
    if fault is None:
        return Measure("unknown", None, None, "no fault or fault_injected event in the timeline")
    if field == "ready":
        pred, words = (lambda v: v is False), READY_FALSE
    else:
        pred, words = (lambda v: v is True), PAUSED_TRUE
    if limits.detect_s is not None:
        return time_to_first(timeline.series_around(field, fault.t), fault.t, fault.label, pred, words,
                             limits.detect_s, limits.max_sample_gap_s)
    # the target's timing is unknown: when it happened can still be shown, whether in time cannot be judged
    seen = time_to_first(timeline.series_around(field, fault.t), fault.t, fault.label, pred, words,
                         max(0.0, timeline.end_t - fault.t), limits.max_sample_gap_s)
    return Measure("unknown", seen.instant, seen.value,
                   f"{seen.reason}; {limits.unknown.get('detect_s', 'the detection limit is unknown')}")


def time_to_detect_ready(timeline: Timeline, limits: Limits) -> CheckResult:
    """Seconds from the first fault event to the first sample with ``ready`` false, <= ``detect_s``."""
    missing = limits.missing("time_to_detect_ready", "detect_s")
    if missing is not None:
        return missing
    return measure_detect(timeline, limits, "ready").result("time_to_detect_ready", limits.detect_s)


def time_to_detect_pause(timeline: Timeline, limits: Limits) -> CheckResult:
    """Seconds from the first fault event to the first sample with ``paused`` true, <= ``detect_s``."""
    missing = limits.missing("time_to_detect_pause", "detect_s")
    if missing is not None:
        return missing
    return measure_detect(timeline, limits, "paused").result("time_to_detect_pause", limits.detect_s)
