"""Orders: idempotency under concurrent duplicates, burst through the throttle (429s retried), token refresh."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from lab_helpers import get, order, post, sample, sql, wait_for

from chaosaitrapp.lab.trader.kite import kite_tag


def test_concurrent_duplicate_submissions_make_one_order(lab):
    cid = f"dup-{uuid.uuid4().hex[:8]}"
    barrier = threading.Barrier(16)

    def submit(_):
        barrier.wait()
        return post(lab, "/orders", json=order(cid))

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(submit, range(16)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 15 + [202], codes
    assert sum(r.json()["duplicate"] for r in answers) == 15
    assert len({r.json()["order_id"] for r in answers}) == 1
    assert sql(lab, "SELECT count(*) FROM orders WHERE client_order_id = %s", (cid,)) == [(1,)]
    assert sql(lab, "SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1") == []


def test_burst_queues_then_drains_without_duplicates(lab):
    broker = f"http://127.0.0.1:{lab.services['broker'].port}"
    before = requests.get(broker + "/lab/stats", timeout=5).json()
    prefix = f"burst-{uuid.uuid4().hex[:6]}"
    ids = [f"{prefix}-{i}" for i in range(45)]
    depths = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            depths.append(sample(lab, "trader_throttle_queue_depth", {"type": "order_placement"}))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda cid: post(lab, "/orders", json=order(cid)).status_code, ids + ids[:10]))
        assert codes.count(202) == 45 and codes.count(200) == 10
        wait_for(lambda: sample(lab, "trader_throttle_queue_depth", {"type": "order_placement"}) == 0, 30,
                 "the throttle queue to drain")
    finally:
        stop.set()
        watcher.join()
    assert max(d for d in depths if d is not None) > 0
    after = requests.get(broker + "/lab/stats", timeout=5).json()
    # the burst's own orders at the broker, by their tags (an earlier test's order may still be placed meanwhile)
    tags = {kite_tag(cid) for cid in ids}
    mine = [o for o in requests.get(broker + "/lab/orders", timeout=5).json()["orders"] if o["tag"] in tags]
    assert len(mine) == 45 and {o["tag"] for o in mine} == tags, "each burst order at the broker exactly once"
    assert after["rejected_429"] > before["rejected_429"]  # the burst hit the broker's limit and was retried
    rows = sql(lab, "SELECT count(*), count(DISTINCT client_order_id) FROM orders WHERE client_order_id LIKE %s",
               (prefix + "-%",))
    assert rows == [(45, 45)]
    wait_for(lambda: sql(lab, "SELECT count(*) FROM orders WHERE client_order_id LIKE %s AND status = 'COMPLETE'",
                         (prefix + "-%",)) == [(45,)], 20, "every burst order to fill")


def test_expired_broker_token_is_refreshed_and_counted(lab):
    broker = f"http://127.0.0.1:{lab.services['broker'].port}"
    before = sample(lab, "trader_retries_total", {"type": "token_refresh"})
    assert requests.post(broker + "/lab/expire-tokens", timeout=5).json()["status"] == "success"
    wait_for(lambda: sample(lab, "trader_retries_total", {"type": "token_refresh"}) > before, 10,
             "a token refresh")
    cid = f"tok-{uuid.uuid4().hex[:8]}"
    assert post(lab, "/orders", json=order(cid)).status_code == 202
    wait_for(lambda: any(o["client_order_id"] == cid and o["status"] == "COMPLETE"
                         for o in get(lab, "/orders").json()["orders"]), 15, "the order to fill after refresh")
    assert get(lab, "/ready").status_code == 200


def test_bad_order_bodies_are_refused(lab):
    assert post(lab, "/orders", json={"client_order_id": "x"}).status_code == 422
    assert post(lab, "/orders", json=order("neg-" + uuid.uuid4().hex[:6], quantity=-1)).status_code == 422
    assert post(lab, "/orders", json=order("side-" + uuid.uuid4().hex[:6], side="HOLD")).status_code == 422
