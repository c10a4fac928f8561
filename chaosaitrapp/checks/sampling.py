"""Is the timeline dense enough to judge the drill by?

``sampling_rate``: samples per second over the timeline (first sample to its end) must be at least
``limits.min_sample_rate_hz`` (10; a stretch in which the drill froze the sampled target itself is left
out: its reads can only time out): coarser than that, times to detect and recover are only known
to a fraction of a second's worth of samples and a short relapse can fall between two of them. A
failure names the likely cause from what the samples recorded: slow answers (their median latency),
or a sampler that could not keep its pace.
"""
from __future__ import annotations

import statistics

from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline


def sampling_rate(timeline: Timeline, limits: Limits) -> CheckResult:
    """Samples per second over the timeline, at least ``min_sample_rate_hz``."""
    name, limit = "sampling_rate", limits.min_sample_rate_hz
    # a stretch in which the drill froze the sampled target is the fault: no answer can come, the
    # reads wait their timeout; the rate is measured over the rest
    frozen = timeline.frozen_windows()
    samples = [s for s in timeline.samples if not any(start <= float(s["t"]) <= end for start, end in frozen)]
    span = timeline.end_t - timeline.start_t - sum(
        max(0.0, min(end, timeline.end_t) - max(start, timeline.start_t)) for start, end in frozen)
    if len(samples) < 2 or span <= 0:
        return CheckResult(name, "unknown", f"{len(samples)} sample(s): too few to measure a rate", None, limit)
    rate = len(samples) / span
    latencies = [float(s["latency_ms"]) for s in samples
                 if isinstance(s.get("latency_ms"), (int, float)) and not isinstance(s.get("latency_ms"), bool)]
    median = statistics.median(latencies) if latencies else None
    where = f"{len(samples)} samples over {span:.1f} s"
    if rate >= limit:
        return CheckResult(name, "pass", f"{rate:.1f} samples/s ({where}), at least {limit:g}/s", round(rate, 2), limit)
    interval = timeline.interval
    if median is not None and interval and median / 1000.0 > interval:
        cause = (f"the target answered slowly: a sample's answers took {median:.0f} ms (median), "
                 f"longer than the {interval * 1000:.0f} ms sampling interval")
    else:
        cause = "the sampler could not keep its pace (a starved or overloaded runner)"
    return CheckResult(name, "fail", f"{rate:.1f} samples/s ({where}) is below the {limit:g}/s needed to time "
                       f"this drill: {cause}", round(rate, 2), limit)
