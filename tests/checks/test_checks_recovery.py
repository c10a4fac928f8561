"""time_to_recover_*, total_unavailability, flaps and recovery_marks."""
import pytest

from chaosaitrapp.checks import Limits, Timeline, recovery_marks
from chaosaitrapp.checks.recovery import flaps, time_to_recover_ready, time_to_recover_resume, total_unavailability
from chaosaitrapp.testing.synthetic import leader_lock, postgres_blip


def test_nominal_recovery(limits):
    timeline = leader_lock().timeline()
    for checker in (time_to_recover_ready, time_to_recover_resume):
        result = checker(timeline, limits)
        assert result.status == "pass", result.reason
        assert result.value == pytest.approx(1.3, abs=0.06)
        assert "limit 7.60 s" in result.reason and "restored" in result.reason


def test_never_recovers_fails(limits):
    timeline = leader_lock(recover_at=None, resume_at=None, leader_back_at=None, duration=20).timeline()
    for checker in (time_to_recover_ready, time_to_recover_resume):
        result = checker(timeline, limits)
        assert result.status == "fail" and result.value is None
        assert "never" in result.reason


def test_slow_recovery_fails(limits):
    timeline = leader_lock(recover_at=14.0, resume_at=14.0, leader_back_at=14.0, duration=18).timeline()
    result = time_to_recover_ready(timeline, limits)
    assert result.status == "fail" and result.value == pytest.approx(8.8, abs=0.06)


def test_not_recovered_when_the_timeline_ends_early_is_unknown(limits):
    timeline = leader_lock(recover_at=None, resume_at=None, duration=8).timeline()
    result = time_to_recover_ready(timeline, limits)
    assert result.status == "unknown" and "ends before the limit" in result.reason


def test_relapse_moves_recovery_to_the_last_return(limits):
    timeline = leader_lock(flaps=[(7.5, 7.9)], duration=10).timeline()
    result = time_to_recover_ready(timeline, limits)
    assert result.status == "pass" and result.value == pytest.approx(2.7, abs=0.06)


def test_hole_after_recovery_is_unknown(limits):
    timeline = leader_lock(missing=[(7.0, 8.5)]).timeline()
    result = time_to_recover_ready(timeline, limits)
    assert result.status == "unknown" and "relapse" in result.reason


def test_missing_restored_event(limits):
    no_restore = leader_lock(restore_at=None).timeline()
    assert time_to_recover_ready(no_restore, limits).status == "unknown"
    only_restore = Timeline.from_records([r for r in leader_lock().records() if r.get("event") != "restored"])
    result = time_to_recover_ready(only_restore, limits)
    assert result.status == "pass" and "restore event" in result.reason
    assert result.value == pytest.approx(1.5, abs=0.06)


def test_postgres_blip_stays_ready(limits):
    result = time_to_recover_ready(postgres_blip().timeline(), limits)
    assert result.status == "pass" and "on every sample" in result.reason


def test_total_unavailability(limits):
    result = total_unavailability(leader_lock().timeline(), limits)
    assert result.status == "pass"
    assert result.value == pytest.approx(3.8, abs=0.1)
    assert result.limit == pytest.approx(3.2 + limits.recover_s)
    tight = Limits.from_dict({"unavailability_s": 2.0}, limits)
    result = total_unavailability(leader_lock().timeline(), tight)
    assert result.status == "fail" and "more than the limit 2.00 s" in result.reason


def test_unreachable_counts_as_unavailable(limits):
    timeline = postgres_blip(unreachable=[(3.0, 4.0)]).timeline()
    assert total_unavailability(timeline, limits).value == pytest.approx(1.0, abs=0.1)


def test_total_unavailability_with_a_hole(limits):
    timeline = leader_lock(missing=[(3.0, 4.5)]).timeline()
    assert total_unavailability(timeline, limits).status == "unknown"
    tight = Limits.from_dict({"unavailability_s": 1.0}, limits)
    assert total_unavailability(timeline, tight).status == "fail"  # the sampled part already exceeds it


def test_total_unavailability_without_a_fault_needs_an_explicit_limit(limits):
    timeline = leader_lock(fault_at=None, restore_at=None, detect_at=None, pause_at=None).timeline()
    assert total_unavailability(timeline, limits).status == "unknown"
    explicit = Limits.from_dict({"unavailability_s": 1.0}, limits)
    assert total_unavailability(timeline, explicit).status == "pass"


def test_flaps(limits):
    assert flaps(leader_lock().timeline(), limits).status == "pass"
    after_recovery = flaps(leader_lock(flaps=[(7.5, 7.9)], duration=10).timeline(), limits)
    assert after_recovery.status == "fail" and after_recovery.value == 1.0
    assert "t=7.50" in after_recovery.reason
    allowed = Limits.from_dict({"max_flaps": 1}, limits)
    assert flaps(leader_lock(flaps=[(7.5, 7.9)], duration=10).timeline(), allowed).status == "pass"


def test_flap_during_the_outage_hand_written(limits):
    ready = [True] * 20 + [False] * 10 + [True] * 3 + [False] * 10 + [True] * 20  # back briefly at 3.0 s
    records = [{"kind": "sample", "t": i / 10, "ready": v} for i, v in enumerate(ready)]
    records += [{"kind": "event", "t": 1.9, "event": "fault"}, {"kind": "event", "t": 4.0, "event": "restored"}]
    result = flaps(Timeline.from_records(records), limits)
    assert result.status == "fail" and "2 times" in result.reason


def test_flaps_unknown_without_fault_or_with_hole(limits):
    assert flaps(leader_lock(fault_at=None, restore_at=None).timeline(), limits).status == "unknown"
    assert flaps(leader_lock(missing=[(7.0, 8.5)]).timeline(), limits).status == "unknown"


def test_recovery_marks(limits):
    marks = recovery_marks(leader_lock().timeline(), limits)
    assert marks["fault"] == pytest.approx(2.0)
    assert marks["detect"] == pytest.approx(2.7, abs=0.06) and marks["detect_s"] == pytest.approx(0.7, abs=0.06)
    assert marks["restore"] == pytest.approx(5.2)
    assert marks["recover"] == pytest.approx(6.5, abs=0.06) and marks["recover_s"] == pytest.approx(1.3, abs=0.06)
    assert marks["detect_pause"] == pytest.approx(2.7, abs=0.06)
    assert marks["windows"] == [[pytest.approx(2.0), pytest.approx(5.2), "stop"]]
    empty = recovery_marks(Timeline.from_records([]))
    assert empty["fault"] is None and empty["recover"] is None and empty["windows"] == []


def test_reads_in_flight_together_are_no_flap():
    """Samples overlap (up to four reads in flight): a 503 read started at 1.08 and answered at 1.26 and a 200 read
    started at 1.16 may have been read in either order; one drop, not a flap."""
    ready = [(0.9, True, 100), (1.08, False, 180), (1.16, True, 50), (1.22, False, 55), (1.3, False, 60)]
    records = [{"kind": "meta"}, {"kind": "event", "t": 0.2, "event": "fault_injected", "target": "net-proxy:x"}]
    records += [{"kind": "sample", "t": t, "ready": v, "latency_ms": ms} for t, v, ms in ready]
    result = flaps(Timeline.from_records(records + [{"kind": "end", "t": 1.4}]), Limits(5, 10))
    assert result.status == "pass" and result.value == 0.0, result
    later = [(2.0, True, 20), (2.5, False, 20)]  # a 200 read well after the 503 ended, then a drop: a flap
    records += [{"kind": "sample", "t": t, "ready": v, "latency_ms": ms} for t, v, ms in later]
    result = flaps(Timeline.from_records(records + [{"kind": "end", "t": 2.6}]), Limits(5, 10))
    assert result.status == "fail" and result.value == 1.0, result
