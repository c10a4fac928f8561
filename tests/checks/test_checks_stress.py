"""The stress checkers on timelines built by hand: a frozen gauge and a silent /metrics both count as
stale on the sampler's clock, the recover-within rule, read-latency percentiles, histogram deltas (not
the cumulative histogram), leadership counters, a restarted or vanished target, a leak, an overrun."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from chaosaitrapp.api.metrics import histogram, parse_metrics
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.measure import quantile_of_delta
from chaosaitrapp.checks.stress import (
    effective_ages,
    heartbeats_under_stress,
    latency_under_stress,
    memory_settles,
    no_leader_flap,
    order_latency_under_stress,
    stress_bounded,
    target_survived,
)
from chaosaitrapp.checks.timeline import Timeline
from chaosaitrapp.stress.family import FAMILY

BUDGETS = dict(FAMILY.budgets)  # the stress family's declared defaults
LIMITS = Limits(detect_s=5, recover_s=10, heartbeat_max=5.0, budgets=BUDGETS)


def sample(t: float, **fields: Any) -> Dict[str, Any]:
    base = {"kind": "sample", "t": t, "ready": True, "leader": 1.0, "paused": False, "md_hb": 0.2, "order_hb": 0.2,
            "scan_hb": 0.2, "health": "healthy", "ready_ms": 10.0, "health_ms": 12.0, "proc_pid": 42,
            "proc_started": 1000.0, "rss_mb": 80.0, "oom_kills": 0}
    base.update(fields)
    return base


def stressed(samples: List[Dict[str, Any]], start: float = 1.0, end: Optional[float] = 6.0,
             extra: List[Dict[str, Any]] = ()) -> Timeline:
    events = [{"kind": "event", "t": start, "event": "fault_injected", "stress": "cpu", "target": "stress:pid:9"}]
    if end is not None:
        events.append({"kind": "event", "t": end, "event": "restored", "stress": "cpu-1", "target": "stress:pid:9"})
    return Timeline.from_records([{"kind": "meta", "interval": 0.05}, *samples, *events, *extra,
                                  {"kind": "end", "t": samples[-1]["t"]}])


def ticking(t0: float, t1: float, step: float = 0.1, **fields: Any) -> List[Dict[str, Any]]:
    """Samples whose heartbeat ages move (0.1-0.3 s) as a healthy process's do."""
    out, t, i = [], t0, 0
    while t <= t1 + 1e-9:
        age = 0.1 + (i % 3) * 0.1
        out.append(sample(round(t, 3), md_hb=age, order_hb=age, scan_hb=age, **fields))
        t, i = t + step, i + 1
    return out


def test_a_healthy_stress_passes_every_checker():
    timeline = stressed(ticking(0, 8), extra=[
        {"kind": "event", "t": 0.5, "event": "snapshot", "label": "before", "leader_changes": 1.0, "lock_lost": 0.0,
         "order_latency": {"buckets": [[10, 5], [100, 5], ["inf", 5]], "count": 5, "sum": 20}},
        {"kind": "event", "t": 6.5, "event": "snapshot", "label": "after_stop", "leader_changes": 1.0,
         "lock_lost": 0.0, "order_latency": {"buckets": [[10, 13], [100, 15], ["inf", 15]], "count": 15, "sum": 200}}])
    for checker in (heartbeats_under_stress, latency_under_stress, order_latency_under_stress, no_leader_flap,
                    target_survived, memory_settles, stress_bounded):
        result = checker(timeline, LIMITS)
        assert result.status == "pass", result


def test_a_frozen_gauge_is_stale_on_the_samplers_clock():
    """A starved process whose metrics endpoint still answers the same (cached) age: the value never grows,
    the time since it last changed does."""
    frozen = [sample(round(1 + i * 0.1, 3), scan_hb=0.3, md_hb=0.1 + (i % 3) * 0.1, order_hb=0.1 + (i % 2) * 0.1)
              for i in range(1, 70)]
    timeline = stressed(ticking(0, 1) + frozen + ticking(8, 9))
    ages = dict(effective_ages(timeline, "scan_hb"))
    assert ages[7.9] == pytest.approx(0.3 + 6.8, abs=0.01)
    result = heartbeats_under_stress(timeline, LIMITS)
    assert result.status == "fail" and "scan heartbeat" in result.reason and result.value >= 5


def test_metrics_that_do_not_answer_count_as_a_stall():
    silent = [sample(round(1 + i * 0.1, 3), md_hb=None, order_hb=None, scan_hb=None) for i in range(1, 70)]
    result = heartbeats_under_stress(stressed(ticking(0, 1) + silent + ticking(8, 9)), LIMITS)
    assert result.status == "fail" and result.value >= 6.5


def test_the_recover_within_rule_lets_the_heartbeats_lapse_during_the_stress_only():
    frozen = [sample(round(1 + i * 0.1, 3), scan_hb=0.3) for i in range(1, 60)]
    timeline = stressed(ticking(0, 1) + frozen + ticking(7, 12), end=6.0)
    assert heartbeats_under_stress(timeline, Limits(5, 10, budgets={**BUDGETS, "heartbeat_recover_s": 2.0})).status == "pass"
    late = [sample(round(1 + i * 0.1, 3), scan_hb=0.3) for i in range(1, 75)]  # stale until t=8.4
    timeline = stressed(ticking(0, 1) + late + ticking(8.5, 12), end=6.0)
    result = heartbeats_under_stress(timeline, Limits(5, 10, budgets={**BUDGETS, "heartbeat_recover_s": 2.0}))
    assert result.status == "fail" and "after the stress ended" in result.reason
    short = stressed(ticking(0, 7), end=6.0)  # ends before the recovery deadline: cannot decide
    assert heartbeats_under_stress(short, Limits(5, 10, budgets={**BUDGETS, "heartbeat_recover_s": 2.0})).status == "unknown"


def test_read_latency_p99_against_its_budget():
    slow = ticking(0, 1) + [sample(round(1 + i * 0.05, 3), ready_ms=480.0 if i % 10 == 0 else 20.0)
                            for i in range(1, 100)] + ticking(6, 7)
    result = latency_under_stress(stressed(slow), LIMITS)
    assert result.status == "fail" and result.value == 480.0 and result.figures["ready_p50_ms"] == 20.0
    assert latency_under_stress(stressed(ticking(0, 7)), LIMITS).status == "pass"


def test_histogram_quantiles_come_from_the_delta_not_the_cumulative_histogram():
    text = "\n".join(["# TYPE trader_order_latency_ms histogram",
                      'trader_order_latency_ms_bucket{le="10.0"} 100.0', 'trader_order_latency_ms_bucket{le="100.0"} 100.0',
                      'trader_order_latency_ms_bucket{le="1000.0"} 100.0', 'trader_order_latency_ms_bucket{le="+Inf"} 100.0',
                      "trader_order_latency_ms_count 100.0", "trader_order_latency_ms_sum 300.0", ""])
    before = histogram(parse_metrics(text), "trader_order_latency_ms")
    after = histogram(parse_metrics(text.replace('le="1000.0"} 100.0', 'le="1000.0"} 110.0')
                                   .replace('le="+Inf"} 100.0', 'le="+Inf"} 110.0')
                                   .replace("_count 100.0", "_count 110.0")), "trader_order_latency_ms")
    assert quantile_of_delta(None, after, 0.99) < 1000  # the cumulative view hides the slow ten
    assert quantile_of_delta(before, after, 0.99) == pytest.approx(991.0)  # the ten new ones are all slow
    assert quantile_of_delta(before, before, 0.99) is None  # nothing observed in between
    assert quantile_of_delta(after, before, 0.5) is None  # a counter went down: a restart


def test_order_latency_fails_over_budget_and_is_unknown_without_snapshots():
    snaps = [{"kind": "event", "t": 0.5, "event": "snapshot", "label": "before", "leader_changes": 1.0, "lock_lost": 0.0,
              "order_latency": {"buckets": [[100, 0], [2500, 0], ["inf", 0]], "count": 0}},
             {"kind": "event", "t": 6.5, "event": "snapshot", "label": "after_stop", "leader_changes": 1.0,
              "lock_lost": 0.0, "order_latency": {"buckets": [[100, 1], [2500, 10], ["inf", 10]], "count": 10}}]
    result = order_latency_under_stress(stressed(ticking(0, 7), extra=snaps), LIMITS)
    assert result.status == "fail" and result.value > 1000
    assert order_latency_under_stress(stressed(ticking(0, 7)), LIMITS).status == "unknown"


def test_leadership_counters_that_moved_fail():
    snaps = [{"kind": "event", "t": 0.5, "event": "snapshot", "label": "before", "leader_changes": 1.0, "lock_lost": 0.0},
             {"kind": "event", "t": 6.5, "event": "snapshot", "label": "after_stop", "leader_changes": 2.0,
              "lock_lost": 1.0}]
    result = no_leader_flap(stressed(ticking(0, 7), extra=snaps), LIMITS)
    assert result.status == "fail" and "leader_lock_lost" in result.reason
    lost = ticking(0, 3) + ticking(3.1, 7, leader=0.0)
    assert no_leader_flap(stressed(lost, extra=snaps[:1] + [dict(snaps[1], leader_changes=1.0, lock_lost=0.0)]),
                          LIMITS).status == "fail"


def test_a_restarted_or_vanished_target_fails_naming_the_oom_kills():
    restarted = ticking(0, 3) + ticking(3.1, 7, proc_pid=43, proc_started=1003.0, oom_kills=1)
    result = target_survived(stressed(restarted), LIMITS)
    assert result.status == "fail" and "OOM-killed 1" in result.reason
    gone = ticking(0, 3) + ticking(3.1, 7, proc_pid=None, proc_started=None)
    assert target_survived(stressed(gone), LIMITS).status == "fail"
    stressor_killed = ticking(0, 3) + ticking(3.1, 7, oom_kills=2)
    kept = target_survived(stressed(stressor_killed), LIMITS)
    assert kept.status == "pass" and "2 other process(es)" in kept.reason


def test_a_pods_container_restarted_under_the_stress_fails_naming_the_container():
    pod = ticking(0, 3, proc_pid="aitrapp-0/aitrapp#0", proc_started=1000.0, oom_kills=0)
    restarted = pod + ticking(3.1, 7, proc_pid="aitrapp-0/aitrapp#1", proc_started=1004.0, oom_kills=1)
    result = target_survived(stressed(restarted), LIMITS)
    assert result.status == "fail" and "container aitrapp-0/aitrapp#1" in result.reason and "OOM-killed" in result.reason
    kept = target_survived(stressed(pod + ticking(3.1, 7, proc_pid="aitrapp-0/aitrapp#0", proc_started=1000.0,
                                                  oom_kills=0)), LIMITS)
    assert kept.status == "pass" and "container aitrapp-0/aitrapp#0" in kept.reason


def test_memory_kept_after_the_stress_is_a_leak():
    leak = ticking(0, 1) + ticking(1.1, 9, rss_mb=330.0)
    result = memory_settles(stressed(leak), LIMITS)
    assert result.status == "fail" and result.value == 250.0
    assert memory_settles(stressed(ticking(0, 9)), LIMITS).status == "pass"


def test_an_overrun_or_an_unended_stressor_fails_and_no_stress_is_unknown():
    over = stressed(ticking(0, 9), extra=[{"kind": "event", "t": 8, "event": "stress_overran", "detail": "still running"}])
    assert stress_bounded(over, LIMITS).status == "fail"
    assert stress_bounded(stressed(ticking(0, 9), end=None), LIMITS).status == "fail"
    plain = Timeline.from_records([{"kind": "meta"}, *ticking(0, 3), {"kind": "end", "t": 3}])
    for checker in (heartbeats_under_stress, latency_under_stress, stress_bounded, memory_settles):
        assert checker(plain, LIMITS).status == "unknown"
