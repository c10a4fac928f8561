"""The rate-limit drill: the throttle queue must fill after the burst and drain to 0 in time.

``queue_drained``: after the burst (the first fault event with detail ``burst``, else the first
fault event) ``queue`` (``trader_throttle_queue_depth{type="order_placement"}``) must rise above 0,
then be 0 on every sample from some instant to the end of the timeline; that instant, in seconds
after the burst, must be at most ``limits.queue_drain_s``. Never rising is a ``fail`` (the burst
did not reach the throttle) once the samples reach past the limit.
"""
from __future__ import annotations

from chaosaitrapp.checks.events import burst_ref
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import Wording, time_to_first, time_to_stable
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline

EMPTY_EPSILON = 0.5  # depth is a count: below half an order is empty
ROSE = Wording(hit="the throttle queue rose above 0", never="the throttle queue never rose above 0")
DRAINED = Wording(hit="the throttle queue was back to 0", never="the throttle queue never drained to 0",
                  steady="the throttle queue was 0")


def queue_drained(timeline: Timeline, limits: Limits) -> CheckResult:
    """Queue depth rose above 0 after the burst and was 0 for good within ``queue_drain_s``."""
    name, limit = "queue_drained", limits.queue_drain_s
    burst = burst_ref(timeline)
    if burst is None:
        return CheckResult(name, "unknown", "no burst (fault) event in the timeline", None, limit)
    series = [(t, float(v)) for t, v in timeline.series("queue")
              if isinstance(v, (int, float)) and not isinstance(v, bool)]
    rise = time_to_first(series, burst.t, burst.label, lambda v: v >= EMPTY_EPSILON, ROSE,
                         limit, limits.max_sample_gap_s)
    if rise.instant is None:
        return CheckResult(name, rise.status, rise.reason, None, limit)
    peak = max((v for t, v in series if t >= burst.t), default=0.0)
    drained = time_to_stable(series, burst.t, burst.label, lambda v: v < EMPTY_EPSILON, DRAINED,
                             limit, limits.max_sample_gap_s, timeline.end_t, search_from=rise.instant)
    reason = f"{drained.reason}; peak depth {peak:g} (first above 0 at t={rise.instant:.2f})"
    value = None if drained.value is None else round(drained.value, 3)
    return CheckResult(name, drained.status, reason, value, limit)
