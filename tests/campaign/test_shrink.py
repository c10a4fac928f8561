"""Shrinking a failing schedule against an oracle that stands for the campaign runs (the seam: a run's failed
checks): it finds the two faults whose overlap fails, says the failure needs that overlap, keeps a single
culprit alone, stays inside its bounds, and keeps a candidate only when it fails a check the original failed."""
from __future__ import annotations

from typing import Set

from chaosaitrapp.campaign.schedule import Schedule, make_schedule, overlapping
from chaosaitrapp.campaign.shrink import RECOVERY_GAP_S, CandidateNotRun, compacted, shrink


def _overlap_of(schedule: Schedule, a: str, b: str) -> bool:
    kinds = {f.id: f.kind for f in schedule.faults}
    return any({kinds[x], kinds[y]} == {a, b} for x, y in overlapping(schedule))


def _seed_with_overlap(a: str, b: str) -> Schedule:
    for seed in range(500):
        schedule = make_schedule(seed, 3, overlap=0.6)
        if _overlap_of(schedule, a, b) and len(schedule.faults) >= 8:
            return schedule
    raise AssertionError("no seed below 500 overlaps them")


def test_a_failure_that_needs_two_overlapping_faults_shrinks_to_them():
    schedule = _seed_with_overlap("redis_stop", "broker_token_invalidated")
    runs = []

    def oracle(candidate: Schedule) -> Set[str]:
        runs.append(candidate)
        return {"orders_exactly_once"} if _overlap_of(candidate, "redis_stop", "broker_token_invalidated") else set()

    found = shrink(schedule, {"orders_exactly_once"}, oracle, max_runs=40)
    assert sorted(f.kind for f in found.smallest.faults) == ["broker_token_invalidated", "redis_stop"]
    assert found.checks == {"orders_exactly_once"} and not found.stopped
    assert [tuple(sorted(p)) for p in found.needs] == [tuple(sorted(f.id for f in found.smallest.faults))]
    assert found.runs == len(runs) and found.smallest.length_s < schedule.length_s
    assert any(kept for _, kept in found.steps) and any(not kept for _, kept in found.steps)


def test_a_failure_of_one_fault_shrinks_to_it_alone_and_needs_no_overlap():
    schedule = make_schedule(3, 3)
    culprit = next(f.kind for f in schedule.faults if f.kind == "postgres_stop")
    found = shrink(schedule, {"campaign_faults_recovered"},
                   lambda c: {"campaign_faults_recovered"} if any(f.kind == culprit for f in c.faults) else set())
    assert [f.kind for f in found.smallest.faults] == [culprit] and found.needs == []


def test_a_candidate_that_fails_another_check_is_not_kept():
    schedule = make_schedule(3, 3)
    found = shrink(schedule, {"orders_exactly_once"}, lambda c: {"campaign_faults_recovered"}, max_runs=30)
    assert found.smallest == schedule and found.runs > 0


def test_shrinking_stops_at_its_bounds_and_says_so():
    schedule = make_schedule(3, 5)
    found = shrink(schedule, {"x"}, lambda c: set(), max_runs=3)
    assert found.runs == 3 and found.stopped == "stopped after 3 runs (max 3)" and found.smallest == schedule
    ticks = iter(range(0, 10_000, 100))
    found = shrink(schedule, {"x"}, lambda c: set(), max_seconds=250, clock=lambda: float(next(ticks)))
    assert found.runs == 2 and found.stopped.startswith("stopped after 300 s")


def test_compacting_keeps_each_group_and_cuts_only_idle_time():
    schedule = make_schedule(7, 10, overlap=0.5)
    short = compacted(schedule)
    assert [(f.id, f.kind, f.seconds) for f in short.faults] == [(f.id, f.kind, f.seconds) for f in schedule.faults]
    assert len(overlapping(short)) == len(overlapping(schedule)) and short.length_s <= schedule.length_s
    starts = {f.id: f.start for f in short.faults}
    for a, b in overlapping(schedule):
        before = {f.id: f.start for f in schedule.faults}
        assert round(starts[b] - starts[a], 1) == round(before[b] - before[a], 1)
    ends = sorted((f.start, f.end) for f in short.faults)
    gaps = [b[0] - max(e for _, e in ends[:i + 1]) for i, b in enumerate(ends[1:])]
    assert max(gaps) <= RECOVERY_GAP_S + 0.05


def test_a_candidate_run_that_never_played_stops_shrinking_keeping_what_was_found():
    schedule = make_schedule(3, 3)
    calls = []

    def oracle(candidate: Schedule) -> Set[str]:
        calls.append(candidate)
        if len(calls) == 2:
            raise CandidateNotRun("stopped at run 2: the target was not ready before it")
        return {"orders_exactly_once"}

    found = shrink(schedule, {"orders_exactly_once"}, oracle, max_runs=30)
    assert found.stopped == "stopped at run 2: the target was not ready before it", found.stopped
    assert found.smallest == calls[0] and found.steps == [(found.steps[0][0], True)]
