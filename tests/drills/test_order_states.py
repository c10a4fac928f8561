"""The order-state drill against the lab: the broker fault proxy shows the drill's orders pending then cancelled,
rejected after their 200, filled in parts, changed without the book showing it, or filled late; the healthy lab's
trader follows the broker's word on each (never ahead of it, its fills the broker's) and the drill passes; it fails
on ``trusts_placement_ack`` (ahead of the broker), ``ignores_partial_fills`` (fills missing) and ``no_status_poll``
(a lost update never found) for their own reasons, and refuses bad input with exit 2 before anything is scripted."""
from __future__ import annotations

from pathlib import Path

import pytest

from .checks import assert_lab_whole
from .kit import ledger_entries, run_drill, run_script, start_lab

CHECKED = ("orders_converged", "positions_match_fills", "orders_exactly_once")
STATES = ("pending_then_cancelled", "rejected_after_ack", "partial_fill", "lost_update", "late_update")


def state_env(**extra: str) -> dict:
    return {"WAIT_READY_TIMEOUT": "20", "ORDER_STATE_S": "1", "CONVERGE_TIMEOUT": "8", **extra}


@pytest.fixture(scope="module")
def states_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


@pytest.mark.parametrize("state", STATES)
def test_the_order_state_drill_passes_on_a_healthy_lab(state, states_lab, tmp_path):
    run = run_drill("broker_order_states", states_lab, tmp_path, state_env(ORDER_STATE=state))
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    found = run.checks
    assert {n: found[n]["status"] for n in CHECKED} == dict.fromkeys(CHECKED, "pass"), found
    watch = [e for e in run.timeline_events() if e.get("event") == "converged"]
    assert len(watch) == 1 and len(watch[0]["watched"]) == 3 and watch[0]["ahead"] == [], watch
    assert set(watch[0]["lag_s"]) == set(watch[0]["watched"]), "every order of the drill agreed with the broker"
    assert watch[0]["in_doubt_series"] and 'data-band="orders_in_doubt"' in Path(run.extension["evidence"]["report"]) \
        .read_text(), "the report has the orders-in-doubt lane"
    fields = run.fields
    assert fields["test_result"] == "PASS" and float(fields["converged_s"]) >= 0, fields
    assert int(fields["orders_in_doubt_max"]) >= 0, fields
    assert not ledger_entries(tmp_path / "state"), "the fault left the ledger"
    assert_lab_whole(states_lab, tmp_path)


def test_the_seed_style_wrapper_runs_the_order_state_drill(states_lab, tmp_path):
    run = run_script("chaos_test_order_states.sh", states_lab, tmp_path,
                     state_env(NONINTERACTIVE="1", ORDER_STATE="partial_fill"))
    assert run.code == 0, run.output[-3000:]
    assert run.fields["check_orders_converged"] == "pass" and run.fields["test_result"] == "PASS"


@pytest.mark.parametrize("defect, state, failing, words", [
    ("trusts_placement_ack", "pending_then_cancelled", "orders_converged", "ahead of the broker"),
    ("trusts_placement_ack", "late_update", "orders_converged", "ahead of the broker"),
    ("ignores_partial_fills", "partial_fill", "positions_match_fills", "recorded filled, the broker filled 34"),
    ("no_status_poll", "lost_update", "orders_converged", "still at odds with the broker"),
])
def test_the_order_state_drill_fails_on_each_defect_for_its_own_reason(defect, state, failing, words, tmp_path):
    lab = start_lab(profile="fast", defects=[defect])
    try:
        run = run_drill("broker_order_states", lab, tmp_path, state_env(ORDER_STATE=state, CONVERGE_TIMEOUT="4"))
    finally:
        lab.down()
    assert run.code == 1 and run.extension["verdict"] == "FAIL", run.output[-3000:]
    found = run.checks
    assert found[failing]["status"] == "fail" and words in found[failing]["reason"], found[failing]
    assert run.fields["test_result"] == "FAIL", run.fields
    assert not ledger_entries(tmp_path / "state"), "the fault was undone"


@pytest.mark.parametrize("env, words", [
    ({"ORDER_STATE": "filled_twice"}, "unknown order state 'filled_twice'"),
    ({"ORDER_STATE_S": "0"}, "order_state_s must be a number of seconds above 0"),
])
def test_bad_order_state_input_is_refused_with_exit_2_before_anything_is_scripted(env, words, states_lab, tmp_path):
    run = run_script("chaos_test_order_states.sh", states_lab, tmp_path, state_env(NONINTERACTIVE="1", **env))
    assert run.code == 2 and "REFUSED by the pre-flight" in run.output, f"exit {run.code}\n{run.output[-2000:]}"
    assert any(words in r for r in run.reasons), run.reasons
    assert run.fields["refused"] == "true" and run.fields["faults_injected"] == "0"
    assert not ledger_entries(tmp_path / "state")


def test_a_lost_update_is_found_under_the_aitrapp_profile(tmp_path):
    lab = start_lab(profile="aitrapp")
    try:
        run = run_drill("broker_order_states", lab, tmp_path, state_env(ORDER_STATE="lost_update", ORDER_STATE_S="2",
                                                                         CONVERGE_TIMEOUT="20", WAIT_READY_TIMEOUT="60"))
    finally:
        lab.down()
    assert run.code == 0, f"exit {run.code}; reasons {run.reasons}\n{run.output[-3000:]}"
    found = run.checks
    assert {n: found[n]["status"] for n in CHECKED} == dict.fromkeys(CHECKED, "pass"), found
