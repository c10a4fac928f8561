"""Each defect the lab can be started with is observable, and refused in LIVE mode."""
from __future__ import annotations

import redis
from lab_helpers import get, holds_for, leader, order, post, sample, sql, start_service, stop_service, wait_for

from chaosaitrapp.lab.trader.lock import LOCK_KEY


def test_never_pause(lab_factory):
    lab = lab_factory(defects=["never_pause"])
    stop_service(lab, "redis")
    wait_for(lambda: leader(lab) == 0.0, 10, "leadership loss")
    assert get(lab, "/state").json()["is_paused"] is False  # the defect: trading goes on
    assert sample(lab, "trader_kill_switch_total", {"reason": "leader_lock_lost"}) == 0.0
    assert get(lab, "/ready").status_code == 503


def test_never_reacquire(lab_factory):
    lab = lab_factory(defects=["never_reacquire"])
    stop_service(lab, "redis")
    wait_for(lambda: leader(lab) == 0.0, 10, "leadership loss")
    start_service(lab, "redis")
    client = redis.Redis(host="127.0.0.1", port=lab.services["redis"].port)
    wait_for(lambda: client.get(LOCK_KEY) is None, 10, "the stale key to expire")
    # a healthy trader re-acquires within backoff_max + refresh; give it twice that
    window = 2 * (lab.timings["backoff_max"] + lab.timings["refresh"])
    assert holds_for(lambda: leader(lab) == 0.0 and client.get(LOCK_KEY) is None, window)
    assert get(lab, "/ready").status_code == 503
    assert get(lab, "/state").json()["is_paused"] is True


def test_stale_heartbeats(lab_factory):
    lab = lab_factory(defects=["stale_heartbeats"])
    stop_service(lab, "redis")
    wait_for(lambda: leader(lab) == 0.0, 10, "leadership loss")
    start_service(lab, "redis")
    wait_for(lambda: leader(lab) == 1.0, 20, "leadership back")
    body = wait_for(lambda: (r := get(lab, "/ready")).json()["scan_heartbeat"] > 5 and r.json(), 15,
                    "heartbeats to go stale")
    assert body["status"] == "not_ready" and body["leader"] == 1
    assert sample(lab, "trader_scan_heartbeat_seconds") > 5
    assert get(lab, "/ready").status_code == 503


def test_duplicate_orders(lab_factory):
    lab = lab_factory(defects=["duplicate_orders"])
    first = post(lab, "/orders", json=order("twice"))
    second = post(lab, "/orders", json=order("twice"))
    assert first.status_code == 202 and second.status_code == 202
    dupes = sql(lab, "SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1")
    assert dupes == [("twice", 2)]


def test_ready_lies(lab_factory):
    lab = lab_factory(defects=["ready_lies"])
    stop_service(lab, "redis")
    wait_for(lambda: leader(lab) == 0.0, 10, "leadership loss")
    ready = get(lab, "/ready")
    assert ready.status_code == 200 and ready.json()["leader"] == 0  # the lie
    assert get(lab, "/state").json()["is_paused"] is True


def test_defects_refused_when_switching_to_live(lab_factory):
    lab = lab_factory(defects=["ready_lies"])
    r = post(lab, "/mode", json={"mode": "LIVE", "confirmation": "CONFIRM LIVE TRADING", "override_reason": "t"})
    assert r.status_code == 409 and "ready_lies" in r.json()["detail"]
    assert get(lab, "/health").json()["mode"] == "PAPER"


def test_healthy_trader_restores_unique_constraint(lab_factory):
    """Without the defect the trader deduplicates and restores the UNIQUE constraint at connect."""
    lab = lab_factory(defects=["duplicate_orders"])
    post(lab, "/orders", json=order("again"))
    post(lab, "/orders", json=order("again"))
    assert sql(lab, "SELECT count(*) FROM orders WHERE client_order_id = 'again'") == [(2,)]
    from chaosaitrapp.lab.runtime import processes
    from chaosaitrapp.lab.runtime.apps import secrets_for
    from chaosaitrapp.lab.runtime.config import DB_PASSWORD

    spec = lab.services["trader"]
    processes.stop(spec)
    spec.env["AITRAPP_LAB_DEFECTS"] = ""
    full_url = lab.database_url.replace("trader@", f"trader:{DB_PASSWORD}@", 1)
    processes.launch(spec, secrets_for("trader", broker_secret="", database_url_with_password=full_url, api_key=None))
    wait_for(lambda: sql(lab, "SELECT 1 FROM pg_constraint WHERE conname = 'orders_client_order_id_key'") == [(1,)],
             30, "the healthy trader to restore the constraint")
    assert sql(lab, "SELECT count(*) FROM orders WHERE client_order_id = 'again'") == [(1,)]
    wait_for(lambda: get(lab, "/health").status_code == 200, 10, "the healthy trader to answer")
