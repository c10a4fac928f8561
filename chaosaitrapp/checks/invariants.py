"""Things that must hold on every sample of a drill, fault or no fault.

- ``heartbeat_while_ready``: whenever ``/ready`` said ready, every heartbeat age (``md_hb``,
  ``order_hb``, ``scan_hb``) was at most ``limits.heartbeat_max``;
- ``ready_while_not_leader``: ``/ready`` never said ready while the instance was not the leader
  (``leader`` other than 1; AITRAPP reads 999 when the lock was never taken);
- ``health_stayed_up``: ``/health`` said ``healthy`` whenever it answered, it answered whenever the rest
  of the API did (a ``/health`` that hangs while a dependency is unreachable is a liveness probe that
  kills a healthy pod), and the API was never unreachable (a sample with an ``error`` and nothing read
  at all: "API crashed"; when every read merely timed out, only when that lasts 1.5 s: a moment of late
  answers on a starved machine is not a crash, a refused connection is).

A sample's reads are not one instant (the sampler reads ``/ready`` and ``/metrics`` at once, the
answers arrive ``skew_ms`` apart), so when leadership changes (or a heartbeat crosses the limit)
between the two reads, one sample can show ``ready`` true with ``leader`` 0 (or a stale age)
although ``/ready`` itself was right: a *read-order race*. It happens at a readiness edge: a
violation confined to one sample whose next sample is no longer ready (a drop), or whose previous
sample was not ready yet (a rise), is therefore excused (and counted in the reason), and so is a
short run of them when the target answered slowly (samples overlap in time: the run may span no
more than its slowest sample's reads took); a longer run, or one away from a readiness edge, is not.

A violation is a ``fail`` whatever else is missing. ``pass`` needs evidence: at least one relevant
sample, and no hole longer than ``limits.max_sample_gap_s`` between the first sample and the end of
the timeline among the samples that can be judged (a ready sample whose heartbeat ages or leader
gauge could not be read, a slow ``/metrics`` under load, is no evidence: it counts as a hole, so a
few of them among dense samples do not hide anything, a run of them does); otherwise ``unknown``.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Tuple

from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import flag_runs, largest_gap, secs, skew_explains
from chaosaitrapp.checks.results import CheckResult
from chaosaitrapp.checks.timeline import Timeline, number

HEARTBEAT_FIELDS = ("md_hb", "order_hb", "scan_hb")
ANSWER_FIELDS = ("ready", "ready_code", "paused", "leader", "health", "md_hb", "order_hb", "scan_hb", "queue")


def _coverage_hole(timeline: Timeline, limits: Limits,
                   usable: Optional[Callable[[Dict[str, object]], bool]] = None) -> Optional[str]:
    """A sentence about the longest hole in the samples (those ``usable`` says can be judged, when
    given) when it exceeds the max gap, else None."""
    samples = [s for s in timeline.samples if usable is None or usable(s)]
    if not samples:
        return "no usable samples in the timeline"
    times = [float(s["t"]) for s in samples]
    # a stretch in which the drill froze the target itself is the fault, not a hole
    covered = [(start - 0.6, end + 0.6) for start, end in timeline.frozen_windows()]
    gap = largest_gap(times, times[0], max(timeline.end_t, times[-1]), covered=covered)
    if gap[0] > limits.max_sample_gap_s:
        return (f"no sample for {secs(gap[0])} from t={gap[1]:.2f} "
                f"(max gap {secs(limits.max_sample_gap_s)}): a violation could hide there")
    return None


def _excused(flags: List[bool], samples: List[Dict[str, object]]) -> List[bool]:
    """Which violations are read-order races: a run of violating samples at a readiness edge (the sample
    after the run not ready: a drop; the one before it not ready: a rise) that is no longer than the
    reads in flight at that edge can explain (the run's span at most its slowest sample's
    ``latency_ms``, plus 50 ms; one sample when the target answers fast, a few when it is starved)."""
    out = [False] * len(flags)
    for i, j in flag_runs(flags):
        drop = j + 1 < len(flags) and samples[j + 1].get("ready") is not True
        rise = i > 0 and samples[i - 1].get("ready") is not True
        if (drop or rise) and skew_explains(samples[i:j + 1], slack=0.05):
            out[i:j + 1] = [True] * (j + 1 - i)
    return out


def heartbeat_while_ready(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when any sample has ``ready`` true and a heartbeat age above ``heartbeat_max``."""
    name, hb_max = "heartbeat_while_ready", limits.heartbeat_max
    samples = timeline.samples
    flags: List[bool] = []
    worst_of: List[Tuple[float, str]] = []
    incomplete, highest, ready_count = 0, None, 0
    for sample in samples:
        worst: Tuple[float, str] = (-1.0, "")
        if sample.get("ready") is True:
            ready_count += 1
            ages = {f: number(sample.get(f)) for f in HEARTBEAT_FIELDS}
            if any(age is None for age in ages.values()):
                incomplete += 1
            for field, age in ages.items():
                if age is None:
                    continue
                highest = age if highest is None else max(highest, age)
                if age > worst[0]:
                    worst = (age, field)
        flags.append(worst[0] > hb_max)
        worst_of.append(worst)
    excused = _excused(flags, samples)
    counted = [i for i, bad in enumerate(flags) if bad and not excused[i]]
    races = sum(excused)
    race_note = f"; {races} one-sample read-order race(s) at a readiness edge excused" if races else ""
    if counted:
        i = max(counted, key=lambda j: worst_of[j][0])
        age, field = worst_of[i]
        return CheckResult(name, "fail", f"{field} was {secs(age)} old at t={float(samples[i]['t']):.2f} while "
                           f"/ready said ready: above heartbeat_max {secs(hb_max)} ({len(counted)} sample(s))"
                           f"{race_note}", age, hb_max)
    if not ready_count:
        return CheckResult(name, "unknown", "no sample with /ready ready: nothing to check", None, hb_max)
    if incomplete == ready_count:
        return CheckResult(name, "unknown", f"all {ready_count} ready sample(s) lack a heartbeat age", highest, hb_max)

    def usable_sample(sample: Dict[str, object]) -> bool:  # a ready sample without every age cannot be judged
        return sample.get("ready") is False or (sample.get("ready") is True and all(
            number(sample.get(f)) is not None for f in HEARTBEAT_FIELDS))

    hole = _coverage_hole(timeline, limits, usable_sample)
    if hole:
        why = f" ({incomplete} ready sample(s) without every heartbeat age)" if incomplete else ""
        return CheckResult(name, "unknown", hole + why, highest, hb_max)
    clean = [worst_of[i][0] for i, bad in enumerate(flags) if not bad and worst_of[i][0] >= 0]
    oldest = max(clean, default=0.0)
    return CheckResult(name, "pass", f"oldest heartbeat while ready was {secs(oldest)} "
                       f"(heartbeat_max {secs(hb_max)}, {ready_count} ready samples){race_note}", oldest, hb_max)


def ready_while_not_leader(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when any sample has ``ready`` true while ``leader`` is not 1."""
    name = "ready_while_not_leader"
    samples = timeline.samples
    ready_count = sum(1 for s in samples if s.get("ready") is True)
    flags = [s.get("ready") is True and number(s.get("leader")) is not None and number(s.get("leader")) != 1.0
             for s in samples]
    excused = _excused(flags, samples)
    counted = [i for i, bad in enumerate(flags) if bad and not excused[i]]
    races = sum(excused)
    race_note = f"; {races} one-sample read-order race(s) at a readiness edge excused" if races else ""
    if counted:
        first = samples[counted[0]]
        return CheckResult(name, "fail", f"/ready said ready while leader was {first.get('leader')} at "
                           f"t={float(first['t']):.2f} ({len(counted)} sample(s)){race_note}",
                           float(len(counted)), 0.0)
    if not ready_count:
        return CheckResult(name, "unknown", "no sample with /ready ready: nothing to check", None, 0.0)
    missing = sum(1 for s in samples if s.get("ready") is True and number(s.get("leader")) is None)
    if missing == ready_count:
        return CheckResult(name, "unknown", f"all {ready_count} ready sample(s) lack the leader gauge", 0.0, 0.0)

    def usable_sample(sample: Dict[str, object]) -> bool:  # a ready sample without the gauge cannot be judged
        return sample.get("ready") is False or (sample.get("ready") is True and number(sample.get("leader")) is not None)

    hole = _coverage_hole(timeline, limits, usable_sample)
    if hole:
        why = f" ({missing} ready sample(s) without the leader gauge)" if missing else ""
        return CheckResult(name, "unknown", hole + why, 0.0, 0.0)
    return CheckResult(name, "pass", f"ready only while leader ({ready_count} ready samples){race_note}", 0.0, 0.0)


def _unreachable(sample: Dict[str, object]) -> bool:
    """The API answered nothing at all on this sample and the sampler noted an error."""
    return bool(sample.get("error")) and all(sample.get(f) is None for f in ANSWER_FIELDS)


SILENT_FOR_S = 1.5  # every read timing out for this long (sample start to sample start) is a hung API


def _silent_stretches(samples: List[Dict[str, object]]) -> List[Dict[str, object]]:
    """The samples of every run of unreachable ones (every read timed out) spanning at least
    ``SILENT_FOR_S``: overlapping samples on a starved runner all time out at once for a moment; a hung
    API stays silent."""
    out: List[Dict[str, object]] = []
    run: List[Dict[str, object]] = []
    for sample in samples + [{}]:
        if sample and _unreachable(sample) and not _refused(sample):
            run.append(sample)
            continue
        if run and float(run[-1]["t"]) - float(run[0]["t"]) >= SILENT_FOR_S:
            out += run
        run = []
    return out


def _refused(sample: Dict[str, object]) -> bool:
    """The sample's error says a connection was refused or reset (nothing listens: a crash)."""
    error = str(sample.get("error") or "").lower()
    return any(word in error for word in ("refused", "reset", "connection aborted", "remote end closed"))


def _health_silent(sample: Dict[str, object]) -> bool:
    """``/health`` did not answer on this sample while other endpoints did."""
    return sample.get("health") is None and "/health" in str(sample.get("error") or "") and not _unreachable(sample)


def health_stayed_up(timeline: Timeline, limits: Limits) -> CheckResult:
    """Fail when ``/health`` answered anything but ``healthy``, stopped answering while the rest of the
    API answered (on two samples in a row: one slow read is not a hang), or the API was unreachable."""
    name = "health_stayed_up"
    samples = [s for s in timeline.samples if not timeline.frozen_at(float(s["t"]))]  # frozen on purpose: silent
    # a crash refuses connections at once; a sample whose every read merely timed out is a slow answer
    # (a starved machine) unless the next one is just as silent
    down = [s for s in samples if _unreachable(s) and _refused(s)] + _silent_stretches(samples)
    unhealthy = [s for s in samples if s.get("health") is not None and s.get("health") != "healthy"]
    silent = [s for s, nxt in zip(samples, samples[1:]) if _health_silent(s) and _health_silent(nxt)]
    if down:
        first = down[0]
        error = str(first.get("error"))[:160]
        return CheckResult(name, "fail", f"API crashed or unreachable: nothing answered at t={float(first['t']):.2f} "
                           f"({len(down)} sample(s)): {error}", float(len(down) + len(unhealthy)), 0.0)
    if unhealthy:
        first = unhealthy[0]
        return CheckResult(name, "fail", f"/health said {first.get('health')!r} at t={float(first['t']):.2f} "
                           f"({len(unhealthy)} sample(s))", float(len(unhealthy)), 0.0)
    if silent:
        first = silent[0]
        return CheckResult(name, "fail", f"/health stopped answering at t={float(first['t']):.2f} while the rest of "
                           f"the API answered ({len(silent) + 1} samples in a row or more): "
                           f"{str(first.get('error'))[:120]}", float(len(silent)), 0.0)
    observed: List[Dict[str, object]] = [s for s in timeline.samples if s.get("health") is not None]
    if not observed:
        return CheckResult(name, "unknown", "no sample recorded /health", None, 0.0)
    hole = _coverage_hole(timeline, limits)
    if hole:
        return CheckResult(name, "unknown", hole, 0.0, 0.0)
    return CheckResult(name, "pass", f"/health healthy on all {len(observed)} samples that read it; "
                       f"the API always answered", 0.0, 0.0)
