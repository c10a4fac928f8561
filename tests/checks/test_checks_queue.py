"""queue_drained: the rate-limit drill's throttle queue rises after the burst and returns to 0."""
import pytest

from chaosaitrapp.checks import Limits
from chaosaitrapp.checks.queue import queue_drained
from chaosaitrapp.testing.synthetic import rate_limit_spike


def test_nominal_burst_drains(limits):
    result = queue_drained(rate_limit_spike().timeline(), limits)
    assert result.status == "pass", result.reason
    assert result.value == pytest.approx(4.5, abs=0.1) and result.limit == 30.0
    assert "peak depth 40" in result.reason


def test_queue_never_drains_fails(limits):
    result = queue_drained(rate_limit_spike(queue_stuck=True, duration=35).timeline(), limits)
    assert result.status == "fail" and "never drained" in result.reason


def test_slow_drain_fails(limits):
    tight = Limits.from_dict({"queue_drain_s": 3.0}, limits)
    result = queue_drained(rate_limit_spike().timeline(), tight)
    assert result.status == "fail" and "slower than the limit 3.00 s" in result.reason


def test_queue_never_rising_fails_once_the_limit_is_sampled(limits):
    result = queue_drained(rate_limit_spike(queue_peak=0.0, duration=35).timeline(), limits)
    assert result.status == "fail" and "never rose" in result.reason


def test_short_or_gappy_or_eventless_timelines_are_unknown(limits):
    assert queue_drained(rate_limit_spike(queue_stuck=True).timeline(), limits).status == "unknown"
    assert queue_drained(rate_limit_spike(missing=[(7.0, 8.5)]).timeline(), limits).status == "unknown"
    no_burst = rate_limit_spike(fault_at=None).timeline()
    result = queue_drained(no_burst, limits)
    assert result.status == "unknown" and "no burst" in result.reason
