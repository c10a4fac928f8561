"""heartbeat_while_ready, ready_while_not_leader, health_stayed_up."""
import pytest

from chaosaitrapp.checks import Timeline
from chaosaitrapp.checks.invariants import health_stayed_up, heartbeat_while_ready, ready_while_not_leader
from chaosaitrapp.testing.synthetic import leader_lock, postgres_blip


def samples(rows, **common):
    """A timeline from ``(t, fields)`` rows, with a fault event at t=0."""
    records = [{"kind": "sample", "t": t, **common, **fields} for t, fields in rows]
    return Timeline.from_records(records + [{"kind": "event", "t": 0.0, "event": "fault"}])


HB = {"md_hb": 0.2, "order_hb": 0.4, "scan_hb": 1.0, "leader": 1.0, "health": "healthy"}


@pytest.mark.parametrize("checker", [heartbeat_while_ready, ready_while_not_leader, health_stayed_up])
def test_nominal_drills_pass(checker, limits):
    for scenario in (leader_lock(), postgres_blip()):
        result = checker(scenario.timeline(), limits)
        assert result.status == "pass", result.reason


def test_stale_heartbeat_while_ready_fails(limits):
    timeline = leader_lock(stale=[(7.0, 14.0, "scan_hb")], stale_ready=True, duration=14).timeline()
    result = heartbeat_while_ready(timeline, limits)
    assert result.status == "fail"
    assert "scan_hb" in result.reason and "heartbeat_max 5.00 s" in result.reason
    assert result.value > 5.0 and result.limit == 5.0


def test_stale_heartbeat_with_not_ready_passes(limits):
    timeline = leader_lock(stale=[(7.0, 14.0, "scan_hb")], duration=14).timeline()
    assert heartbeat_while_ready(timeline, limits).status == "pass"


def test_one_sample_read_order_race_is_excused_but_two_are_not(limits):
    race = samples([(0.0, {"ready": True}), (0.1, {"ready": True, "scan_hb": 5.01}), (0.2, {"ready": False})], **HB)
    result = heartbeat_while_ready(race, limits)
    assert result.status == "pass" and "race" in result.reason
    twice = samples([(0.0, {"ready": True}), (0.1, {"ready": True, "scan_hb": 5.01}),
                     (0.2, {"ready": True, "scan_hb": 5.06}), (0.3, {"ready": False})], **HB)
    assert heartbeat_while_ready(twice, limits).status == "fail"
    stays = samples([(0.0, {"ready": True}), (0.1, {"ready": True, "scan_hb": 5.01}), (0.2, {"ready": True})], **HB)
    assert heartbeat_while_ready(stays, limits).status == "fail"


def test_missing_heartbeats_or_no_ready_sample_is_unknown(limits):
    # a few ready samples whose /metrics read failed (a slow answer under load) hide nothing among dense ones
    brief = leader_lock(null_fields=[(3.0, 3.2, "md_hb"), (7.0, 7.2, "md_hb")]).timeline()
    assert heartbeat_while_ready(brief, limits).status == "pass"
    # a run of them longer than the max gap is a hole a violation could hide in
    timeline = leader_lock(null_fields=[(0.2, 1.9, "md_hb")]).timeline()
    result = heartbeat_while_ready(timeline, limits)
    assert result.status == "unknown" and "without every heartbeat age" in result.reason
    never_ready = samples([(0.0, {"ready": False}), (0.1, {"ready": False})], **HB)
    assert heartbeat_while_ready(never_ready, limits).status == "unknown"
    assert ready_while_not_leader(never_ready, limits).status == "unknown"


def test_gap_makes_invariants_unknown(limits):
    timeline = leader_lock(missing=[(7.0, 8.5)]).timeline()
    for checker in (heartbeat_while_ready, ready_while_not_leader, health_stayed_up):
        result = checker(timeline, limits)
        assert result.status == "unknown" and "could hide" in result.reason


def test_ready_while_not_leader_fails(limits):
    timeline = leader_lock(leader_lost_at=2.0).timeline()
    result = ready_while_not_leader(timeline, limits)
    assert result.status == "fail" and "leader was 0.0" in result.reason
    assert result.value >= 10


def test_leader_999_counts_as_not_leader(limits):
    timeline = samples([(0.0, {"ready": True}), (0.1, {"ready": True, "leader": 999}), (0.2, {"ready": True})], **HB)
    assert ready_while_not_leader(timeline, limits).status == "fail"


def test_leadership_race_is_excused(limits):
    result = ready_while_not_leader(leader_lock(leader_lost_at=2.62).timeline(), limits)
    assert result.status == "pass" and "1 one-sample read-order race" in result.reason


def test_leadership_race_at_a_readiness_rise_is_excused_only_at_the_edge(limits):
    # /metrics answered just before the lock was taken, /ready just after: one sample, at the rise
    rise = samples([(0.0, {"ready": False, "leader": 0}), (0.1, {"ready": True, "leader": 0}),
                    (0.2, {"ready": True, "leader": 1})], **HB)
    result = ready_while_not_leader(rise, limits)
    assert result.status == "pass" and "1 one-sample read-order race(s) at a readiness edge" in result.reason
    # the same lone sample in the middle of a ready stretch is not at an edge: a lie
    middle = samples([(0.0, {"ready": True, "leader": 1}), (0.1, {"ready": True, "leader": 0}),
                      (0.2, {"ready": True, "leader": 1})], **HB)
    assert ready_while_not_leader(middle, limits).status == "fail"
    # two in a row after a rise is not a race either
    longer = samples([(0.0, {"ready": False, "leader": 0}), (0.1, {"ready": True, "leader": 0}),
                      (0.2, {"ready": True, "leader": 0}), (0.3, {"ready": True, "leader": 1})], **HB)
    assert ready_while_not_leader(longer, limits).status == "fail"


def test_a_short_run_of_races_is_excused_only_when_the_reads_were_that_slow(limits):
    # a starved target: each sample's reads took 450 ms, so three samples 0.1 s apart overlap the drop
    def run(latency_ms):
        rows = [(0.0, {"ready": True, "leader": 1})]
        rows += [(0.1 * k, {"ready": True, "leader": 0, "latency_ms": latency_ms}) for k in (1, 2, 3)]
        rows += [(0.4, {"ready": False, "leader": 0}), (0.5, {"ready": False, "leader": 0})]
        return samples(rows, **{**HB, "leader": None})
    slow = ready_while_not_leader(run(450.0), limits)
    assert slow.status == "pass" and "3 one-sample read-order race(s)" in slow.reason
    assert ready_while_not_leader(run(5.0), limits).status == "fail"  # fast reads cannot explain three


def test_missing_leader_is_unknown(limits):
    assert ready_while_not_leader(leader_lock(null_fields=[(1.0, 1.2, "leader")]).timeline(), limits).status == "pass"
    result = ready_while_not_leader(leader_lock(null_fields=[(0.5, 2.0, "leader")]).timeline(), limits)
    assert result.status == "unknown" and "without the leader gauge" in result.reason


def test_api_unreachable_is_a_crash(limits):
    timeline = postgres_blip(unreachable=[(3.0, 3.5)]).timeline()
    result = health_stayed_up(timeline, limits)
    assert result.status == "fail" and result.reason.startswith("API crashed")
    assert "Connection refused" in result.reason


def test_one_sample_of_timeouts_is_not_a_crash_but_a_refusal_or_two_are(limits):
    def timeline(errors):
        rows = [(0.1 * k, {"ready": True}) for k in range(5)]
        rows += [(0.5 + 0.1 * k, {"ready": None, "leader": None, "health": None, "md_hb": None, "order_hb": None,
                                  "scan_hb": None, "error": e}) for k, e in enumerate(errors)]
        after = 0.5 + 0.1 * len(errors)
        rows += [(after, {"ready": True}), (after + 0.1, {"ready": True})]
        return samples(rows, **HB)
    slow = "GET http://h/ready: no answer within 0.5s; GET http://h/metrics: no answer within 0.5s"
    assert health_stayed_up(timeline([slow]), limits).status == "pass"
    assert health_stayed_up(timeline([slow, slow]), limits).status == "pass"  # 0.1 s of late answers
    assert health_stayed_up(timeline([slow] * 17), limits).reason.startswith("API crashed")  # silent 1.6 s
    refused = "GET http://h/ready: Connection refused"
    assert health_stayed_up(timeline([refused]), limits).reason.startswith("API crashed")


def test_unhealthy_fails(limits):
    result = health_stayed_up(postgres_blip(unhealthy=[(3.0, 3.2)]).timeline(), limits)
    assert result.status == "fail" and "'degraded'" in result.reason


def test_health_not_recorded_is_unknown(limits):
    timeline = postgres_blip(null_fields=[(0.0, 99.0, "health")]).timeline()
    assert health_stayed_up(timeline, limits).status == "unknown"


def test_a_failing_endpoint_other_than_health_is_not_a_crash(limits):
    timeline = postgres_blip(null_fields=[(3.0, 3.5, "leader")]).timeline()
    assert health_stayed_up(timeline, limits).status == "pass"
