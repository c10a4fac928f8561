"""sampling_rate: a timeline too sparse to judge the drill by fails, naming the likely cause."""
from chaosaitrapp.checks import Timeline
from chaosaitrapp.checks.sampling import sampling_rate
from chaosaitrapp.testing.synthetic import leader_lock


def with_latency(scenario, latency_ms):
    records = scenario.records()
    for record in records:
        if record.get("kind") == "sample":
            record["latency_ms"] = latency_ms
    return Timeline.from_records(records)


def test_dense_timeline_passes(limits):
    result = sampling_rate(leader_lock().timeline(), limits)
    assert result.status == "pass" and result.value >= 19 and "samples/s" in result.reason


def test_slow_target_is_named_as_the_cause(limits):
    timeline = with_latency(leader_lock(hz=5), 180.0)
    timeline.meta["interval"] = 0.05
    result = sampling_rate(timeline, limits)
    assert result.status == "fail" and result.value < 10
    assert "the target answered slowly" in result.reason and "180 ms" in result.reason


def test_a_starved_sampler_is_named_as_the_cause(limits):
    timeline = with_latency(leader_lock(hz=4), 8.0)
    timeline.meta["interval"] = 0.05
    result = sampling_rate(timeline, limits)
    assert result.status == "fail" and "could not keep its pace" in result.reason


def test_too_few_samples_is_unknown(limits):
    records = [r for r in leader_lock().records() if r.get("kind") != "sample"][:3]
    assert sampling_rate(Timeline.from_records(records), limits).status == "unknown"
