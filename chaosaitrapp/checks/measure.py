"""Timing a condition on a sampled series, honestly: a measurement the samples cannot support is
``unknown``, never ``pass``.

Two shapes of question, both measured from a reference instant (an event's ``t``):

- :func:`time_to_first`: when did the condition first hold? (time to detect)
- :func:`time_to_stable`: when did the condition start holding for good, i.e. the first sample
  from which every later sample satisfies it up to the end of the timeline? (time to recover)

Sampling is only evidence where it is dense: a hole longer than ``max_gap`` (from the reference
to the first sample, between samples, or from the last sample to the end) where the answer could
hide makes the result ``unknown``. A result is ``fail`` without full coverage only when the
samples prove the limit was exceeded whatever happened in the holes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from chaosaitrapp.checks.results import CheckResult

Series = Sequence[Tuple[float, Any]]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Wording:
    """How a measurement talks about its condition, e.g. ``hit="ready went false"``,
    ``never="ready never went false"``, ``already="ready was already false"``, ``steady="ready"`` (held throughout)."""

    hit: str
    never: str
    already: str = ""
    steady: str = ""


@dataclass(frozen=True)
class Measure:
    """A timing: ``status`` pass/fail/unknown, the ``instant`` (t) the condition was seen, its
    ``value`` (seconds after the reference) and a one-sentence ``reason``."""

    status: str
    instant: Optional[float]
    value: Optional[float]
    reason: str

    def result(self, name: str, limit: float) -> CheckResult:
        """This timing as checker ``name``'s result against ``limit`` (value rounded to ms)."""
        return CheckResult(name, self.status, self.reason,
                           None if self.value is None else round(self.value, 3), limit)


def secs(value: float) -> str:
    """Seconds as text, ``"0.70 s"``."""
    return f"{value:.2f} s"


def largest_gap(times: Sequence[float], start: float, stop: float,
                covered: Sequence[Tuple[float, float]] = ()) -> Tuple[float, float]:
    """The longest stretch of ``[start, stop]`` with no observation time inside it,
    as ``(length, where_it_begins)``; edges count (start -> first time, last time -> stop). Time inside
    the ``covered`` windows (``(from, to)``: stretches that need no observation) does not count."""
    if stop <= start:
        return 0.0, start
    points: List[float] = [start] + [t for t in times if start < t < stop] + [stop]
    best = (0.0, start)
    for a, b in zip(points, points[1:]):
        length = b - a - sum(max(0.0, min(b, hi) - max(a, lo)) for lo, hi in covered)
        if length > best[0]:
            best = (length, a)
    return best


def _gap_reason(gap: Tuple[float, float], max_gap: float, between: str) -> str:
    length, at = gap
    return f"no sample for {secs(length)} from t={at:.2f} (max gap {secs(max_gap)}) {between}"


def time_to_first(
    series: Series,
    ref: float,
    ref_label: str,
    pred: Predicate,
    words: Wording,
    limit: float,
    max_gap: float,
) -> Measure:
    """Seconds from ``ref`` to the first sample at or after ``ref`` satisfying ``pred``.

    pass: seen within ``limit`` with no hole longer than ``max_gap`` before it;
    fail: seen later than ``limit``, or never seen although samples reach past ``ref + limit``
    (both with the first ``limit`` seconds covered);
    unknown: the condition already held on the last sample before ``ref``, a hole hides the
    answer, or the samples end before ``ref + limit`` without it.
    """
    before = [(t, v) for t, v in series if t < ref]
    if before and pred(before[-1][1]) and words.already:
        return Measure("unknown", None, None,
                       f"{words.already} at t={before[-1][0]:.2f}, before {ref_label}: cannot time it")
    after = [(t, v) for t, v in series if t >= ref]
    times = [t for t, _ in after]
    hit = next(((t, v) for t, v in after if pred(v)), None)
    if hit is not None:
        value = hit[0] - ref
        if value <= limit:
            gap = largest_gap(times, ref, hit[0])
            if gap[0] > max_gap:
                return Measure("unknown", hit[0], value,
                               f"{words.hit} {secs(value)} after {ref_label}, but "
                               + _gap_reason(gap, max_gap, "before that, so it may have been earlier or later"))
            return Measure("pass", hit[0], value,
                           f"{words.hit} {secs(value)} after {ref_label} (limit {secs(limit)})")
        gap = largest_gap(times, ref, ref + limit)
        if gap[0] > max_gap:
            return Measure("unknown", hit[0], value,
                           f"{words.hit} {secs(value)} after {ref_label} (limit {secs(limit)}), but "
                           + _gap_reason(gap, max_gap, "within the limit hides when"))
        return Measure("fail", hit[0], value,
                       f"{words.hit} {secs(value)} after {ref_label}: slower than the limit {secs(limit)}")
    if not after:
        return Measure("unknown", None, None, f"no sample after {ref_label}")
    last = after[-1][0]
    if last - ref <= limit:
        return Measure("unknown", None, None,
                       f"{words.never} in the {secs(last - ref)} sampled after {ref_label}, "
                       f"which ends before the limit {secs(limit)}")
    gap = largest_gap(times, ref, ref + limit)
    if gap[0] > max_gap:
        return Measure("unknown", None, None,
                       f"{words.never} in the samples, but " + _gap_reason(gap, max_gap, f"after {ref_label}"))
    return Measure("fail", None, None,
                   f"{words.never}: not seen in the {secs(last - ref)} sampled after {ref_label} "
                   f"(limit {secs(limit)})")


def time_to_stable(
    series: Series,
    ref: float,
    ref_label: str,
    pred: Predicate,
    words: Wording,
    limit: float,
    max_gap: float,
    end_t: float,
    search_from: Optional[float] = None,
) -> Measure:
    """Seconds from ``ref`` to the first sample from which ``pred`` holds on every later sample
    up to the end of the timeline (``end_t``); samples before ``search_from`` (default ``ref``)
    are not candidates.

    pass: within ``limit``, and no hole longer than ``max_gap`` anywhere from ``ref`` to
    ``end_t`` (a hole could hide a relapse);
    fail: the condition started holding for good later than ``limit`` after ``ref`` (the sample
    just before it proves it), or it still did not hold on a last sample later than the limit;
    unknown: the samples end before the limit while the condition does not hold, or a hole
    hides the answer.
    """
    start = ref if search_from is None else search_from
    after = [(t, v) for t, v in series if t >= start]
    if not after:
        return Measure("unknown", None, None, f"no sample after {ref_label}")
    k = len(after)
    while k > 0 and pred(after[k - 1][1]):
        k -= 1
    if k == len(after):
        last = after[-1][0]
        if last - ref > limit:
            return Measure("fail", None, None,
                           f"{words.never}: still not the case at t={last:.2f}, {secs(last - ref)} after "
                           f"{ref_label} (limit {secs(limit)})")
        return Measure("unknown", None, None,
                       f"{words.never} in the {secs(last - ref)} sampled after {ref_label}, "
                       f"which ends before the limit {secs(limit)}")
    instant = after[k][0]
    value = instant - ref
    previous = after[k - 1][0] if k > 0 else start
    if value > limit:
        if previous - ref > limit or instant - previous <= max_gap:
            return Measure("fail", instant, value,
                           f"{words.hit} {secs(value)} after {ref_label}: slower than the limit {secs(limit)}")
        return Measure("unknown", instant, value,
                       f"{words.hit} {secs(value)} after {ref_label} (limit {secs(limit)}), but "
                       + _gap_reason((instant - previous, previous), max_gap, "just before it hides when"))
    gap = largest_gap([t for t, _ in after], start, max(end_t, after[-1][0]))
    if gap[0] > max_gap:
        return Measure("unknown", instant, value,
                       f"{words.hit} {secs(value)} after {ref_label}, but "
                       + _gap_reason(gap, max_gap, "could hide a relapse or an earlier recovery"))
    if k == 0:
        return Measure("pass", instant, value,
                       f"{words.steady or words.hit} on every sample from {ref_label} on (limit {secs(limit)})")
    return Measure("pass", instant, value,
                   f"{words.hit} {secs(value)} after {ref_label} and stayed so (limit {secs(limit)})")


def flag_runs(flags: Sequence[bool]) -> List[Tuple[int, int]]:
    """``(first, last)`` indices (inclusive) of each run of consecutive True values in ``flags``."""
    runs: List[Tuple[int, int]] = []
    i = 0
    while i < len(flags):
        if flags[i]:
            j = i
            while j + 1 < len(flags) and flags[j + 1]:
                j += 1
            runs.append((i, j))
            i = j
        i += 1
    return runs


def skew_explains(run: Sequence[Dict[str, Any]], slack: float = 0.0) -> bool:
    """True when a run of samples could all have read one change in flight: a single sample, or a run
    whose span (first ``t`` to last) is at most its slowest sample's ``latency_ms`` plus ``slack`` seconds."""
    if len(run) == 1:
        return True
    latencies = [float(v) for v in (s.get("latency_ms") for s in run)
                 if isinstance(v, (int, float)) and not isinstance(v, bool)]
    slowest = max(latencies, default=0.0) / 1000.0
    return float(run[-1]["t"]) - float(run[0]["t"]) <= slowest + slack


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) of ``values`` by nearest rank (ValueError when empty): one definition for the
    checks and the benchmarks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def quantile_of_delta(before: Optional[Mapping[str, object]], after: Mapping[str, object],
                      q: float) -> Optional[float]:
    """The ``q`` quantile (0-1) of the observations a histogram gained between two readings (:func:`chaosaitrapp.api.metrics.histogram`;
    ``before`` None: since the start), interpolated inside its bucket as Prometheus's
    ``histogram_quantile`` does; the highest finite bound when it falls in ``+Inf``; None when nothing
    was observed in between or a counter went down (a restart: the readings cannot be compared)."""
    old = {float(le): float(c) for le, c in (before or {}).get("buckets", [])}  # type: ignore[union-attr]
    rows = [(float(le), float(c) - old.get(float(le), 0.0)) for le, c in after["buckets"]]  # type: ignore[union-attr]
    if any(c < 0 for _, c in rows) or not rows or rows[-1][1] <= 0:
        return None
    rank = q * rows[-1][1]
    lower, below = 0.0, 0.0
    for le, cumulative in rows:
        if cumulative >= rank:
            if math.isinf(le):
                finite = [b for b, _ in rows if not math.isinf(b)]
                return finite[-1] if finite else None
            inside = cumulative - below
            return lower + (le - lower) * ((rank - below) / inside if inside > 0 else 1.0)
        lower, below = le, cumulative
    return None
