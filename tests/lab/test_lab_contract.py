"""The lab trader speaks the AITRAPP contract: every endpoint's shape and every metric family."""
from __future__ import annotations

import uuid

import pytest
from lab_helpers import get, metrics, order, post, wait_for
from prometheus_client.parser import text_string_to_metric_families

READY_KEYS = {"ok", "ready", "status", "mode", "leader", "marketdata_heartbeat", "order_stream_heartbeat",
              "scan_heartbeat"}
STATE_KEYS = {"timestamp", "mode", "is_paused", "is_market_open", "positions_count", "trades_today", "daily_pnl",
              "marketdata_connected", "websocket_connected"}
ORDER_KEYS = {"order_id", "client_order_id", "timestamp", "side", "quantity", "price", "status", "filled_quantity"}
FAMILIES = {
    "trader_is_leader": "gauge",
    "trader_marketdata_heartbeat_seconds": "gauge",
    "trader_order_stream_heartbeat_seconds": "gauge",
    "trader_scan_heartbeat_seconds": "gauge",
    "trader_throttle_queue_depth": "gauge",
    "trader_leader_changes": "counter",
    "trader_kill_switch": "counter",
    "trader_orders_placed": "counter",
    "trader_orders_filled": "counter",
    "trader_retries": "counter",
    "trader_scan_supervisor_state": "gauge",
    "trader_order_latency_ms": "histogram",
}


def test_health_shape(lab):
    r = get(lab, "/health")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"status", "mode", "is_paused", "timestamp"}
    assert body["status"] == "healthy" and body["mode"] == "PAPER" and body["is_paused"] is False


def test_ready_shape_when_ready(lab):
    r = get(lab, "/ready")
    assert r.status_code == 200, r.text
    body = r.json()
    assert READY_KEYS <= set(body)
    assert body["ok"] is True and body["ready"] is True and body["status"] == "ready"
    assert body["leader"] == 1 and isinstance(body["leader"], int)
    for key in ("marketdata_heartbeat", "order_stream_heartbeat", "scan_heartbeat"):
        assert 0 <= body[key] < 5


def test_state_shape(lab):
    body = get(lab, "/state").json()
    assert STATE_KEYS <= set(body)
    assert body["is_paused"] is False and body["mode"] == "PAPER"
    assert body["marketdata_connected"] is True and body["websocket_connected"] is True
    assert isinstance(body["positions_count"], int) and isinstance(body["trades_today"], int)
    assert isinstance(body["daily_pnl"], float)
    assert "paused" not in body  # the original scripts' .paused never existed


def test_pause_and_resume_set_both_flags(lab):
    try:
        assert post(lab, "/pause").json() == {"status": "paused"}
        assert get(lab, "/state").json()["is_paused"] is True
        assert get(lab, "/health").json()["is_paused"] is True
    finally:
        assert post(lab, "/resume").json() == {"status": "resumed"}
    assert get(lab, "/state").json()["is_paused"] is False
    assert get(lab, "/health").json()["is_paused"] is False


def test_flatten_takes_reason_as_query(lab):
    r = post(lab, "/flatten", params={"reason": "drill abort"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"status", "reason", "duration_seconds", "timestamp"}
    assert body["status"] in ("flattened", "no_positions") and body["reason"] == "drill abort"


def test_flatten_closes_positions(lab):
    cid = f"flat-{uuid.uuid4().hex[:8]}"
    assert post(lab, "/orders", json=order(cid)).status_code == 202
    wait_for(lambda: get(lab, "/state").json()["positions_count"] > 0, 15, "a position after the fill")
    body = post(lab, "/flatten", params={"reason": "test"}).json()
    assert body["status"] == "flattened"
    assert get(lab, "/state").json()["positions_count"] == 0
    assert post(lab, "/flatten", params={"reason": "again"}).json()["status"] == "no_positions"


def test_mode_live_needs_confirmation(lab):
    r = post(lab, "/mode", json={"mode": "LIVE", "confirmation": "yes please", "override_reason": "test"})
    assert r.status_code == 400 and "CONFIRM LIVE TRADING" in r.json()["detail"]
    assert get(lab, "/health").json()["mode"] == "PAPER"
    try:
        r = post(lab, "/mode", json={"mode": "LIVE", "confirmation": "CONFIRM LIVE TRADING", "override_reason": "t"})
        assert r.status_code == 200 and r.json()["mode"] == "LIVE"
        assert get(lab, "/state").json()["mode"] == "LIVE"
        refused = post(lab, "/orders", json=order(f"live-{uuid.uuid4().hex[:8]}"))
        assert refused.status_code == 403 and "PAPER" in refused.json()["detail"]
    finally:
        r = post(lab, "/mode", json={"mode": "PAPER", "confirmation": None, "override_reason": None})
        assert r.status_code == 200 and r.json()["mode"] == "PAPER"


def test_orders_shape_and_fill(lab):
    cid = f"shape-{uuid.uuid4().hex[:8]}"
    r = post(lab, "/orders", json=order(cid))
    assert r.status_code == 202, r.text
    created = r.json()
    assert ORDER_KEYS <= set(created) and created["duplicate"] is False and created["client_order_id"] == cid

    def filled():
        listing = get(lab, "/orders").json()
        assert set(listing) == {"orders", "count"} and listing["count"] == len(listing["orders"])
        mine = [o for o in listing["orders"] if o["client_order_id"] == cid]
        return mine and mine[0]["status"] == "COMPLETE" and mine[0]["filled_quantity"] == 50 and mine[0]

    row = wait_for(filled, 15, "the order to fill")
    assert ORDER_KEYS <= set(row)


def test_market_data_restart(lab):
    r = post(lab, "/market-data/restart")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success" and body["connected"] is True and body["waited_seconds"] >= 0
    wait_for(lambda: get(lab, "/ready").status_code == 200, 10, "ready after the market-data restart")


def test_every_metric_family_is_exposed(lab):
    families = metrics(lab)
    for name, kind in FAMILIES.items():
        assert name in families, f"missing family {name}"
        assert families[name].type == kind, f"{name}: {families[name].type} != {kind}"
    leader = [s for s in families["trader_is_leader"].samples]
    assert len(leader) == 1 and leader[0].value == 1.0 and leader[0].labels["instance_id"]
    queue = families["trader_throttle_queue_depth"].samples
    assert any(s.labels == {"type": "order_placement"} for s in queue)
    assert any(s.labels.get("reason") == "leader_lock_lost" for s in families["trader_kill_switch"].samples)
    assert any(s.labels.get("type") == "token_refresh" for s in families["trader_retries"].samples)
    assert any(s.name == "trader_leader_changes_total" and s.value >= 1 for s in families["trader_leader_changes"].samples)
    placed = families["trader_orders_placed"].samples
    assert {"order_type", "status"} <= set(next(s for s in placed if s.name.endswith("_total")).labels)
    assert families["trader_scan_supervisor_state"].samples[0].value == 1.0


def test_heartbeats_are_ages_not_timestamps(lab):
    families = metrics(lab)
    for name in ("trader_marketdata_heartbeat_seconds", "trader_order_stream_heartbeat_seconds",
                 "trader_scan_heartbeat_seconds"):
        value = families[name].samples[0].value
        assert 0 <= value < 5, f"{name} = {value}"


def test_metrics_text_parses_with_prometheus_parser(lab):
    text = get(lab, "/metrics").text
    assert list(text_string_to_metric_families(text))
    assert "1.0" in text  # values print as floats


@pytest.mark.parametrize("path", ["/", "/docs", "/openapi.json"])
def test_open_pages(lab, path):
    assert get(lab, path).status_code == 200
