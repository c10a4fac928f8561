"""The verdict CI trusts (the one judge), what a journal records, and the seed-format evidence log."""
from chaosaitrapp.evidence.seedlog import extra_fields, seed_fields, write_seed_log
from chaosaitrapp.verdict import CHECKS_MARK, checks_as_steady_state, judge, recorded, suite_exit_code


def journal(**over):
    base = {"status": "completed", "deviated": False,
            "steady_states": {"before": {"steady_state_met": True, "probes": []},
                              "after": {"steady_state_met": True, "probes": []}, "during": []},
            "run": [{"status": "succeeded", "activity": {"name": "stop-redis"}}],
            "rollbacks": [{"status": "succeeded", "activity": {"name": "restore-redis"}}]}
    base.update(over)
    return base


def test_clean_run_passes():
    assert judge(journal(), [{"name": "time_to_detect_ready", "status": "pass", "reason": "0.7s"}]) == ("PASS", [])


def test_failed_steady_state_before_fails_although_chaos_would_exit_0():
    j = journal(run=[], steady_states={"before": {"steady_state_met": False, "probes": [
        {"activity": {"name": "instance-is-leader"}, "status": "succeeded", "output": 0.0, "tolerance_met": False}]},
        "after": None})
    verdict, reasons = judge(j)
    assert verdict == "FAIL" and "before the method not met: instance-is-leader (got 0.0)" in reasons[0]


def test_failed_wait_in_method_fails():
    j = journal(run=[{"status": "failed", "activity": {"name": "orchestrator-paused"},
                      "exception": ["ConditionTimeout: timed out after 5.0s waiting for is_paused to be true"]}])
    verdict, reasons = judge(j)
    assert verdict == "FAIL" and "orchestrator-paused failed" in reasons[0]


def test_failed_rollback_interrupted_run_unknown_check_ledger_and_control_errors_fail():
    j = journal(status="interrupted", rollbacks=[{"status": "failed", "activity": {"name": "restore-redis"},
                                                 "exception": ["TargetError: no"]}])
    verdict, reasons = judge(j, [{"name": "flaps", "status": "unknown", "reason": "no samples"}],
                             ["sampler died"], outstanding_faults=1)
    assert verdict == "FAIL"
    text = " | ".join(reasons)
    for part in ("'interrupted'", "rollback restore-redis failed", "flaps could not decide", "sampler died",
                 "still in the ledger"):
        assert part in text


def test_after_state_never_checked_fails():
    verdict, reasons = judge(journal(steady_states={"before": {"steady_state_met": True}, "after": None}))
    assert verdict == "FAIL" and "never checked" in reasons[0]


def test_seed_log_has_every_seed_field_in_order(tmp_path):
    snaps = {"before": {"leader": 1.0, "ready": True, "paused": False, "queue": 0.0, "health": "healthy"},
             "after_stop": {"leader": 0.0, "ready": False, "paused": True, "health": "healthy"},
             "after_recovery": {"leader": 1.0, "ready": True, "paused": False, "scan_hb": 1.234,
                                "order_hb": 0.8, "md_hb": 0.5, "health": "healthy"}}
    path = write_seed_log(tmp_path / "x.log", "leader_lock", "2025-11-13T14-30-00",
                          seed_fields(snaps) + extra_fields(snaps), "PASS")
    lines = path.read_text().splitlines()
    assert lines[:12] == ["leader_lock_chaos_test,2025-11-13T14-30-00", "leader_before,1", "leader_after_stop,0",
                          "leader_after_recovery,1", "ready_before,ready", "ready_after_stop,not_ready",
                          "ready_after_recovery,ready", "scan_hb,1.23", "order_hb,0.80", "md_hb,0.50",
                          "health,healthy", "paused_before,false"]
    assert lines[-1] == "test_result,PASS"


def test_labels_never_snapshotted_are_left_out_not_unknown():
    fields = dict(seed_fields({"before": {"leader": 1.0, "ready": True}}))
    assert fields["leader_before"] == "1" and fields["ready_before"] == "ready"
    assert "leader_after_stop" not in fields and "ready_after_recovery" not in fields
    assert dict(seed_fields({"before": {"leader": None, "ready": True}}))["leader_before"] == "unknown"
    assert seed_fields({}) == []


def test_preflight_refusal_fails_with_only_its_reasons():
    verdict, reasons = judge(journal(status="interrupted"), preflight=["pre-flight refused: bad api"])
    assert verdict == "FAIL" and reasons == ["pre-flight refused: bad api"]


def test_dry_run_is_its_own_outcome_unless_something_went_wrong():
    assert judge(journal(run=[{"status": "failed", "activity": {"name": "wait"}}]), dry=True) == ("DRY", [])
    assert judge(journal(), dry=True, preflight=["pre-flight refused: x"])[0] == "FAIL"
    assert judge(journal(), ["boom"] and [], ["sampler died"], dry=True)[0] == "FAIL"
    before_failed = journal(steady_states={"before": {"steady_state_met": False, "probes": []}, "after": None})
    assert judge(before_failed, dry=True)[0] == "FAIL"


def test_recorded_verdict_is_read_never_recomputed():
    ext = {"name": "chaosaitrapp", "verdict": "PASS", "checks": [{"name": "flaps", "status": "pass"}], "reasons": []}
    assert recorded({"status": "failed", "extensions": [ext]}) == ("PASS", [{"name": "flaps", "status": "pass"}], [])
    verdict, checks, reasons = recorded({"status": "completed"})
    assert verdict == "FAIL" and checks == [] and "no chaosaitrapp verdict" in reasons[0]


def test_the_suite_exit_code_tells_failed_from_refused_and_not_applicable():
    ok, failed = {"verdict": "PASS"}, {"verdict": "FAIL"}
    refused = {"verdict": "FAIL", "refused": True}
    skipped, named = {"verdict": "SKIP"}, {"verdict": "SKIP", "named": True}
    assert suite_exit_code([ok, skipped]) == 0, "a default-selection drill that does not apply is no failure"
    assert suite_exit_code([ok, skipped], strict=True) == 2
    assert suite_exit_code([ok, named]) == 2, "a drill asked for by name that cannot run is bad input"
    assert suite_exit_code([ok, refused]) == 2 and suite_exit_code([refused, failed]) == 1
    assert suite_exit_code([]) == 1 and suite_exit_code([{"verdict": "DRY"}]) == 0


def test_the_checks_become_a_steady_state_during_the_method_for_chaos_toolkits_readers():
    checks = [{"name": "time_to_detect_ready", "status": "pass", "reason": "0.7s"},
              {"name": "time_to_recover_ready", "status": "fail", "reason": "12s > 10s"},
              {"name": "fencing_tokens_monotonic", "status": "unknown", "reason": "no token"}]
    state = checks_as_steady_state(checks, "2026-12-03T10:00:00", "2026-12-03T10:00:09")
    assert state["steady_state_met"] is False and state[CHECKS_MARK] is True
    assert [(p["activity"]["name"], p["status"], p["tolerance_met"]) for p in state["probes"]] == [
        ("check:time_to_detect_ready", "succeeded", True), ("check:time_to_recover_ready", "succeeded", False),
        ("check:fencing_tokens_monotonic", "failed", False)]
    assert "could not decide: no token" in state["probes"][2]["exception"][0]
    assert checks_as_steady_state(checks[:1], "", "")["steady_state_met"] is True
    assert checks_as_steady_state([], "", "") is None


def test_the_judge_reads_the_checks_once_not_again_as_a_deviation():
    checks = [{"name": "time_to_recover_ready", "status": "fail", "reason": "12s > 10s"}]
    j = journal()
    j["steady_states"]["during"] = [checks_as_steady_state(checks, "", "")]
    verdict, reasons = judge(j, checks)
    assert verdict == "FAIL" and reasons == ["check time_to_recover_ready failed: 12s > 10s"]
    j["steady_states"]["during"] = [checks_as_steady_state([{**checks[0], "status": "pass"}], "", "")]
    assert judge(j, [{**checks[0], "status": "pass"}]) == ("PASS", [])
