"""What only a target of its own shows: timing other than AITRAPP's judged by that timing (learned from its
lock key, never assumed), a target whose timing nobody knows never passing a timing check, and split brain
on replicas deployed by hand: the held order is injected, and the double placement of an unfenced service
is observed on the broker's history."""
import pytest
from drills.kit import run_drill


def test_a_lease_shorter_than_the_redis_timeout_fails_by_the_targets_own_timing(deployed_factory, tmp_path):
    """TTL 6 s, refresh 2 s, a Redis timeout of 8 s: behind a blackholed Redis it keeps trading past the
    instant its own lease could run out (4 s): FAIL, judged by the timing learned from its lock key."""
    target = deployed_factory(lock_ttl=6, lock_refresh=2, redis_timeout=8)
    run = run_drill("network_partition_redis", None, tmp_path,
                    {"DETECT_TIMEOUT": "20", "WAIT_READY_TIMEOUT": "30", **target.env})
    assert run.code != 0 and run.fields["test_result"] == "FAIL"
    assert run.fields["target_lock_ttl_s"] == "6" and run.fields["target_lock_refresh_s"] == "2"
    assert "learned from PTTL" in run.fields["target_lock_ttl_source"]
    stopped = run.checks["trading_stopped_before_lease_expiry"]
    assert stopped["status"] == "fail" and stopped["limit"] == pytest.approx(4.0), stopped
    assert any("trading_stopped_before_lease_expiry failed" in r for r in run.reasons), run.reasons


def test_a_target_of_unknown_timing_never_passes_a_timing_check(deployed_factory, tmp_path):
    """Nobody gave the timing and the drill may not learn it: the detection checks say unknown, the drill fails
    saying how to give it; nothing of AITRAPP's is assumed."""
    target = deployed_factory()
    run = run_drill("leader_lock", None, tmp_path, {"DETECT_TIMEOUT": "4", "WAIT_READY_TIMEOUT": "10",
                                                     "LOCK_LEARN_TIMEOUT": "0", **target.env})
    assert run.fields["test_result"] == "FAIL" and run.fields["target_lock_ttl_s"] == "unknown"
    for name in ("time_to_detect_ready", "time_to_detect_pause"):
        assert run.checks[name]["status"] == "unknown" and "lock refresh period is unknown" in run.checks[name]["reason"]
    assert run.checks["time_to_recover_ready"]["limit"] == 10.0, "recovery is held to the deadline it was told"
    described = run_drill("leader_lock", None, tmp_path / "described", {"DETECT_TIMEOUT": "4", "WAIT_READY_TIMEOUT": "10",
                                                                        "LOCK_LEARN_TIMEOUT": "0", "LOCK_TTL": "3",
                                                                        "LOCK_REFRESH": "0.5", **target.env})
    assert described.fields["test_result"] == "PASS", described.reasons
    assert described.fields["target_lock_ttl_source"] == "$LOCK_TTL"


def test_split_brain_on_replicas_deployed_by_hand(deployed_factory, tmp_path):
    """Fenced replicas pass, with the leader's order really held on the wire (its instance id read from its
    gauge); unfenced ones (AITRAPP's lock as published) fail because the same order reached the broker
    twice and one replica placed while another traded: observed, not inferred."""
    env = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20"}
    fenced = deployed_factory(replicas=2)
    run = run_drill("split_brain_pause", None, tmp_path / "fenced", {**env, **fenced.env})
    assert run.fields["test_result"] == "PASS", run.reasons
    hold = next(r for r in run.journal["run"] if r["activity"]["provider"]["func"] == "hold_leader_orders")
    assert hold["output"]["held"] is True and hold["output"]["instance"].startswith("dep0-"), hold["output"]
    partition = run_drill("split_brain_partition", None, tmp_path / "fenced-partition", {**env, **fenced.env})
    assert partition.fields["test_result"] == "PASS", partition.reasons
    unfenced = deployed_factory(replicas=2, defects=["no_fencing"])
    run = run_drill("split_brain_pause", None, tmp_path / "unfenced", {**env, **unfenced.env})
    assert run.fields["test_result"] == "FAIL"
    assert run.checks["one_placer_at_a_time"]["status"] == "fail", run.checks["one_placer_at_a_time"]
    assert float(run.fields["overlap_orders"]) >= 1


def test_split_brain_partition_fails_when_the_cut_off_leader_cannot_notice(deployed_factory, tmp_path):
    """Replicas without fencing or a Redis timeout: the leader cut off from Redis keeps leading beside its
    successor; both report leader at once."""
    target = deployed_factory(replicas=2, defects=["no_fencing", "no_redis_timeout"])
    run = run_drill("split_brain_partition", None, tmp_path, {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20",
                                                              **target.env})
    assert run.code == 1 and run.fields["test_result"] == "FAIL"
    leaders = run.checks["one_leader_at_a_time"]
    assert leaders["status"] == "fail" and "all reported leader 1" in leaders["reason"], leaders
