"""time_to_detect_ready / time_to_detect_pause on hand-written and synthetic timelines."""
import pytest

from chaosaitrapp.checks import Timeline
from chaosaitrapp.checks.detection import time_to_detect_pause, time_to_detect_ready
from chaosaitrapp.testing.synthetic import leader_lock


def test_nominal_leader_lock_detects_in_time(limits):
    timeline = leader_lock().timeline()
    for checker in (time_to_detect_ready, time_to_detect_pause):
        result = checker(timeline, limits)
        assert result.status == "pass", result.reason
        assert result.value == pytest.approx(0.7, abs=0.06)
        assert result.limit == limits.detect_s
        assert "0.70 s" in result.reason and "limit 3.10 s" in result.reason


def test_hand_written_timeline():
    from chaosaitrapp.checks import Limits
    limits = Limits(detect_s=1.0, recover_s=5.0)
    records = [{"kind": "meta", "drill": "leader_lock", "interval": 0.25}]
    records += [{"kind": "sample", "t": i * 0.25, "ready": i * 0.25 < 1.5, "paused": i * 0.25 >= 1.75}
                for i in range(12)]
    records += [{"kind": "event", "t": 1.0, "event": "fault", "target": "lab:redis", "detail": "stop"},
                {"kind": "event", "t": 1.1, "event": "fault_injected", "target": "lab:redis", "detail": "stopped"}]
    timeline = Timeline.from_records(records)
    ready = time_to_detect_ready(timeline, limits)
    assert (ready.status, ready.value) == ("pass", 0.5)
    pause = time_to_detect_pause(timeline, limits)
    assert (pause.status, pause.value) == ("pass", 0.75)
    slow = time_to_detect_pause(timeline, Limits(detect_s=0.5, recover_s=5.0))
    assert slow.status == "fail" and "slower than the limit 0.50 s" in slow.reason


def test_slow_detection_fails(limits):
    timeline = leader_lock(detect_at=5.5, pause_at=5.6, restore_at=7.0, duration=12).timeline()
    result = time_to_detect_ready(timeline, limits)
    assert result.status == "fail"
    assert result.value == pytest.approx(3.5, abs=0.06)
    assert "3.5" in result.reason and "3.10 s" in result.reason
    assert time_to_detect_pause(timeline, limits).status == "fail"


def test_never_pauses_fails(limits):
    timeline = leader_lock(pause_at=None, resume_at=None).timeline()
    result = time_to_detect_pause(timeline, limits)
    assert result.status == "fail" and result.value is None
    assert "never paused" in result.reason
    assert time_to_detect_ready(timeline, limits).status == "pass"


def test_never_detected_fails_even_with_a_hole_after_the_limit(limits):
    timeline = leader_lock(detect_at=None, pause_at=None, missing=[(6.0, 8.0)]).timeline()
    result = time_to_detect_ready(timeline, limits)
    assert result.status == "fail", result.reason


def test_no_fault_event_is_unknown(limits):
    timeline = leader_lock(fault_at=None, restore_at=None).timeline()
    result = time_to_detect_ready(timeline, limits)
    assert result.status == "unknown" and "no fault" in result.reason


def test_no_sample_within_a_second_after_the_fault_is_unknown(limits):
    timeline = leader_lock(missing=[(1.99, 3.2)]).timeline()
    result = time_to_detect_ready(timeline, limits)
    assert result.status == "unknown"
    assert "no sample for 1.2" in result.reason and "max gap 1.00 s" in result.reason


def test_hole_inside_the_limit_without_detection_is_unknown(limits):
    timeline = leader_lock(detect_at=None, pause_at=None, missing=[(3.0, 4.5)]).timeline()
    assert time_to_detect_ready(timeline, limits).status == "unknown"


def test_timeline_ending_before_the_limit_is_unknown(limits):
    timeline = leader_lock(detect_at=None, pause_at=None, restore_at=None, duration=4.0).timeline()
    result = time_to_detect_ready(timeline, limits)
    assert result.status == "unknown" and "ends before the limit" in result.reason


def test_already_down_before_the_fault_is_unknown(limits):
    timeline = leader_lock(detect_at=1.0).timeline()
    result = time_to_detect_ready(timeline, limits)
    assert result.status == "unknown" and "already" in result.reason


def test_detection_measured_from_the_first_fault_event(limits):
    timeline = Timeline.from_records(
        [{"kind": "event", "t": 1.0, "event": "fault_injected"}, {"kind": "event", "t": 0.5, "event": "fault"}]
        + [{"kind": "sample", "t": i / 10, "ready": i < 15} for i in range(40)])
    assert time_to_detect_ready(timeline, limits).value == pytest.approx(1.0)


def test_a_sample_in_flight_at_the_fault_counts_at_its_last_answer():
    """A sample that began just before the fault and read the pause after it (the scaffolded drill's race in CI:
    "already paused at t=0.17, before the fault event (t=0.17)") is no evidence of a pause before the fault: it counts
    at its last answer. A sample that had its answers before the fault still shows a pause that was already there."""
    from chaosaitrapp.checks import Limits
    limits = Limits(detect_s=1.0, recover_s=5.0)
    fault = [{"kind": "event", "t": 1.0, "event": "fault", "target": "lab:redis", "detail": "stop"}]
    samples = [{"kind": "sample", "t": round(i * 0.05, 2), "paused": False, "latency_ms": 10.0} for i in range(20)]
    samples += [{"kind": "sample", "t": 0.999, "paused": True, "latency_ms": 30.0}]
    samples += [{"kind": "sample", "t": round(1.0 + i * 0.05, 2), "paused": True, "latency_ms": 10.0} for i in range(1, 40)]
    pause = time_to_detect_pause(Timeline.from_records(fault + samples), limits)
    assert (pause.status, pause.value) == ("pass", pytest.approx(0.029, abs=1e-3)), pause.reason
    answered_before = [dict(s, latency_ms=0.5) if s["t"] == 0.999 else s for s in samples]
    already = time_to_detect_pause(Timeline.from_records(fault + answered_before), limits)
    assert already.status == "unknown" and "already paused" in already.reason, already.reason
