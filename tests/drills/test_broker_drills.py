"""The broker drills (token expiry, market-data WebSocket loss: close, stall, restart) pass against a
healthy lab under both timing profiles, and FAIL, for the right reason, against each lab defect they
exist to catch; either way the proxy is left without faults and the ledger empty."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from chaosaitrapp.controls.inference import checks_of
from chaosaitrapp.orderids import is_kite_tag, tags_of

from .checks import assert_lab_whole
from .kit import ROOT, run_drill, run_script, start_lab

#: Deadlines long enough for the fast lab's feed (detect ~5 s, recover limit 8.7 s), short enough
#: that a drill against a defect fails in well under a minute.
BROKER_ENV = {"DETECT_TIMEOUT": "9", "WAIT_READY_TIMEOUT": "10"}
AITRAPP_ENV = {"DETECT_TIMEOUT": "30", "WAIT_READY_TIMEOUT": "90"}
VARIANTS = ["close", "stall", "restart"]


@pytest.fixture(scope="module")
def fast_lab():
    lab = start_lab(profile="fast")
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def aitrapp_lab():
    lab = start_lab(profile="aitrapp")
    yield lab
    lab.down()


def proxy_control(lab) -> str:
    return lab.state.endpoints["broker_proxy"]


def assert_proxy_clean(lab) -> None:
    faults = requests.get(proxy_control(lab) + "/faults", timeout=3).json()["faults"]
    assert faults == [], f"faults left at the proxy: {faults}"


def timeline_records(run, kind: str):
    path = Path(run.extension["evidence"]["timeline"])
    return [r for r in map(json.loads, path.read_text().splitlines()) if r.get("kind") == kind]


def assert_broker_pass(run, drill: str, variant=None) -> None:
    assert run.code == 0, f"{drill} exit {run.code}; reasons {run.extension.get('reasons')}\n{run.output[-3000:]}"
    assert run.fields["test_result"] == "PASS" and run.extension["verdict"] == "PASS"
    names = [c["name"] for c in run.extension["checks"]]
    experiment = json.loads((ROOT / "experiments" / f"{drill}.json").read_text())
    assert names == checks_of(experiment, {"ws_fault": variant or "close"})
    assert all(c["status"] == "pass" for c in run.extension["checks"]), run.extension["checks"]
    assert run.extension["broker"]["errors"] == [] and run.extension["broker"]["broker_records"] > 0


def test_token_expiry_passes_fast(fast_lab, tmp_path):
    run = run_drill("broker_token_expiry", fast_lab, tmp_path, BROKER_ENV)
    assert_broker_pass(run, "broker_token_expiry")
    fields = run.fields
    assert float(fields["token_refresh_bounded_value"]) >= 1
    assert float(fields["token_refreshes_after_recovery"]) > float(fields["token_refreshes_before"])
    # the refresh as the broker saw it: a session made after the fault, then a token never used before
    refresh = next(c for c in run.extension["checks"] if c["name"] == "token_refresh_bounded")
    assert "session(s) created at the broker" in refresh["reason"], refresh
    fault_t = next(e["t"] for e in run.timeline_events() if e["event"] == "fault_injected")
    broker = timeline_records(run, "broker")
    sessions = [r for r in broker if r.get("what") == "session" and r["status"] == 200 and r["t"] >= fault_t]
    assert sessions and any(r.get("what") == "token_new" and r["t"] >= sessions[0]["t"] for r in broker)
    assert {"check_orders_exactly_once", "check_token_refresh_bounded"} <= set(fields)
    # the evidence itself: the dropped reply's order is at the broker once, by its tag, and the target says so
    orders = timeline_records(run, "orders")[0]
    placements = [r for r in timeline_records(run, "broker") if r.get("what") == "order"]
    dropped = [r for r in placements if r.get("dropped")]
    assert len(dropped) == 1, "the drill lost exactly one placement reply"
    mine = [o for o in orders["orders"] if o["client_order_id"].startswith(orders["prefix"])]
    assert len(mine) == 5 and all(o["status"] in ("OPEN", "COMPLETE") for o in mine), mine  # placed
    assert all(is_kite_tag(o["client_order_id"]) for o in mine), "a drill's order id is a valid Kite tag as it is"
    assert {r["tag"] for r in placements if r["status"] == 200} >= {o["client_order_id"] for o in mine}
    for o in mine:
        ids = {r["order_id"] for r in placements if r.get("tag") in tags_of(o["client_order_id"])
               and r.get("status") == 200}
        assert len(ids) == 1, (o, ids)
    page = Path(run.extension["evidence"]["report"]).read_text()
    assert 'data-band="token_refreshes"' in page and 'data-band="md_connected"' in page
    assert_proxy_clean(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


@pytest.mark.parametrize("variant", VARIANTS)
def test_websocket_passes_fast(variant, fast_lab, tmp_path):
    run = run_drill("websocket_reconnect", fast_lab, tmp_path, {**BROKER_ENV, "WS_FAULT": variant})
    assert_broker_pass(run, "websocket_reconnect", variant)
    fields = run.fields
    assert fields["ready_after_stop"] == "not_ready" and fields["ready_after_recovery"] == "ready"
    assert float(fields["time_to_detect_ready_s"]) >= 4.0, "the feed is seen dead once its age passes 5 s"
    assert fields["check_no_order_on_stale_feed"] == "pass" and fields["check_feed_resubscribed"] == "pass"
    if variant == "close":
        assert fields["md_connected_after_stop"] == "false" and fields["check_md_disconnect_seen"] == "pass"
    else:  # a blackhole is not noticed by the client: the socket still reads connected
        assert fields["md_connected_after_stop"] == "true" and "check_md_disconnect_seen" not in fields
    restore = [e for e in timeline_records(run, "event") if e.get("event") == "restored"]
    assert restore and ("market-data/restart" in restore[-1]["detail"]) == (variant == "restart")
    assert_proxy_clean(fast_lab)
    assert_lab_whole(fast_lab, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("drill,variant", [("broker_token_expiry", None)] + [("websocket_reconnect", v) for v in VARIANTS])
def test_broker_drills_pass_aitrapp_profile(drill, variant, aitrapp_lab, tmp_path):
    extra = {**AITRAPP_ENV, **({"WS_FAULT": variant} if variant else {})}
    run = run_drill(drill, aitrapp_lab, tmp_path, extra)
    assert_broker_pass(run, drill, variant)
    assert_proxy_clean(aitrapp_lab)


DEFECTS = [
    # drill, WS_FAULT, defect, substrings that must appear among the failure reasons
    ("broker_token_expiry", None, "no_token_refresh", ["check token_refresh_bounded failed: no session was created at the broker",
                                                       "token-refreshed failed"]),
    ("broker_token_expiry", None, "refresh_storm", ["check token_refresh_bounded failed", "a refresh storm"]),
    ("broker_token_expiry", None, "counts_refusals_as_refreshes", [
        "check token_refresh_bounded failed: no session was created at the broker", "yet no session was created",
        "token-refreshed failed"]),
    ("broker_token_expiry", None, "duplicate_on_retry", ["check orders_exactly_once failed", "at the broker 2 times"]),
    ("broker_token_expiry", None, "reuses_tag", ["check orders_exactly_once failed", "under the one tag"]),
    ("websocket_reconnect", "close", "ws_never_reconnects", ["check time_to_recover_ready failed",
                                                             "check feed_resubscribed failed"]),
    ("websocket_reconnect", "close", "ws_no_resubscribe", ["check feed_resubscribed failed", "did not resubscribe"]),
    ("websocket_reconnect", "close", "trades_on_stale_feed", ["check no_order_on_stale_feed failed",
                                                              "trading on a dead feed"]),
    ("websocket_reconnect", "stall", "trades_on_stale_feed", ["check no_order_on_stale_feed failed"]),
    ("websocket_reconnect", "close", "heartbeat_from_simulator", ["check no_order_on_stale_feed failed"]),
]


@pytest.mark.parametrize("drill,variant,defect,expected", DEFECTS,
                         ids=[f"{d}-{v or 'token'}-{x}" for d, v, x, _ in DEFECTS])
def test_broker_drill_fails_against_defect(drill, variant, defect, expected, tmp_path):
    lab = start_lab(defects=[defect])
    try:
        run = run_drill(drill, lab, tmp_path, {**BROKER_ENV, **({"WS_FAULT": variant} if variant else {})})
        assert run.code != 0, f"{drill} passed against {defect}:\n{run.output[-3000:]}"
        assert run.fields["test_result"] == "FAIL" and run.extension["verdict"] == "FAIL"
        reasons = " | ".join(run.reasons)
        for part in expected:
            assert part in reasons, f"expected {part!r} among the reasons: {reasons}"
        assert_proxy_clean(lab)
        ledger = tmp_path / "state" / "ledger.json"
        assert not ledger.exists() or json.loads(ledger.read_text())["entries"] == []
    finally:
        lab.down()


def test_seed_wrappers_run_the_broker_drills(fast_lab, tmp_path):
    token = run_script("chaos_test_broker_token.sh", fast_lab, tmp_path / "token", {**BROKER_ENV, "NONINTERACTIVE": "1"})
    assert token.code == 0, token.output[-3000:]
    assert "== broker_token_expiry: PASS" in token.output
    ws = run_script("chaos_test_websocket.sh", fast_lab, tmp_path / "ws",
                    {**BROKER_ENV, "NONINTERACTIVE": "1", "WS_FAULT": "stall"})
    assert ws.code == 0 and "WS_FAULT=stall" in ws.output and "== websocket_reconnect: PASS" in ws.output
    bad = run_script("chaos_test_websocket.sh", fast_lab, tmp_path / "bad", {"NONINTERACTIVE": "1", "WS_FAULT": "cut"})
    assert bad.code == 2 and "WS_FAULT must be close, stall or restart" in bad.output
