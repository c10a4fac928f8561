"""Each drill FAILS, for its own reason, against a target deployed by hand with the defect it exists to
catch (the lab trader's defects, switched on in a trader the test starts itself): the same verdicts as on
the lab (tests/drills), reached through the real-deployment path. The lease-timing and split-brain defects
are in test_deployed_timing_and_replicas."""
import pytest
from drills.kit import ledger_entries, run_drill

STRESS = {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "20", "STRESS_SECONDS": "6", "STRESS_ORDERS": "8"}
CASES = [
    # drill, defect, settings, deployment options, substrings that must appear among the failure reasons
    ("leader_lock", "never_pause", {"DETECT_TIMEOUT": "4", "WAIT_READY_TIMEOUT": "10"}, {},
     ["orchestrator-paused failed", "check time_to_detect_pause"]),
    ("postgres_blip", "duplicate_orders", {"DETECT_TIMEOUT": "4", "WAIT_READY_TIMEOUT": "10"}, {},
     ["no-duplicate-client-order-id"]),
    ("rate_limit_spike", "duplicate_orders", {"DETECT_TIMEOUT": "4", "WAIT_READY_TIMEOUT": "10"}, {},
     ["no-duplicate-client-order-id"]),
    ("broker_token_expiry", "no_token_refresh", {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "10"}, {},
     ["check token_refresh_bounded failed: no session was created at the broker"]),
    ("websocket_reconnect", "ws_no_resubscribe", {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "10",
                                                  "WS_FAULT": "close"}, {},
     ["check feed_resubscribed failed", "did not resubscribe"]),
    ("network_partition_postgres", "health_blocks_on_db",
     {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "10", "PARTITION_SECONDS": "4"}, {},
     ["check health_stayed_up failed: /health stopped answering"]),
    ("network_partition_broker", "blind_resend",
     {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "10", "PARTITION_SECONDS": "4"}, {},
     ["check orders_exactly_once failed", "at the broker"]),
    ("cpu_stress", "blocking_scan", STRESS, {"cpu_limit": 0.5},
     ["check heartbeats_under_stress failed", "the process stalled"]),
    # without fencing too: the lease guard would otherwise hold the orders the late pause lets through
    ("redis_stall", "no_redis_timeout,no_fencing", {"DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "15"}, {},
     ["check trading_stopped_before_lease_expiry failed", "check no_order_after_lease_expiry failed"]),
    ("postgres_hang", "db_write_without_timeout", {"HANG_SECONDS": "10", "ANSWER_MAX": "7", "WAIT_READY_TIMEOUT": "15"},
     {}, ["check api_answered_during_hang failed", "GET /orders gave no answer within 7s"]),
    ("clock_jump", "lease_on_wall_clock", {"WAIT_READY_TIMEOUT": "15"}, {"clock": True},
     ["check lock_kept_through_jump failed", "the leader's lease ran out while its wall clock was off"]),
    # the trader stays dead after its OOM kill: a short wait for it to be ready again decides as well
    ("memory_stress", "memory_leak_under_load", {**STRESS, "STRESS_ORDERS": "24", "WAIT_READY_TIMEOUT": "6"},
     {"memory_limit": "256M"},
     ["check target_survived failed", "OOM-killed"]),
]


@pytest.mark.parametrize("drill,defect,settings,options,expected", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_drill_fails_on_its_defect_in_a_deployed_target(drill, defect, settings, options, expected,
                                                             deployed_factory, tmp_path):
    target = deployed_factory(defects=defect.split(","), **options)
    run = run_drill(drill, None, tmp_path, {**settings, **target.env})
    assert run.code != 0 and run.fields["test_result"] == "FAIL" and run.extension["verdict"] == "FAIL", \
        f"{drill} against {defect}: exit {run.code}\n{run.output[-3000:]}"
    reasons = " | ".join(run.reasons)
    for part in expected:
        assert part in reasons, f"expected {part!r} among the reasons: {reasons}"
    assert ledger_entries(tmp_path / "state") == [], "every fault was restored"
