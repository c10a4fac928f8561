"""The broker simulator in-process: rate limit (429), expiring tokens, order book fills, tick stream."""
from __future__ import annotations

import time

from fastapi.testclient import TestClient

from chaosaitrapp.lab.broker.app import create_app
from chaosaitrapp.lab.broker.settings import BrokerSettings

from lab_helpers import wait_for


def client(**settings) -> TestClient:
    return TestClient(create_app(BrokerSettings(api_secret="s", **settings)))


def token(c: TestClient) -> dict:
    r = c.post("/session/token", json={"api_key": "lab", "api_secret": "s"})
    assert r.status_code == 200
    return {"Authorization": f"token lab:{r.json()['data']['access_token']}"}


def body(tag: str) -> dict:
    return {"tradingsymbol": "NIFTY", "transaction_type": "BUY", "quantity": 1, "price": 1.0, "tag": tag}


def test_rate_limit_429_beyond_10_per_second():
    with client(rate_limit=10) as c:
        auth = token(c)
        codes = [c.post("/orders", json=body(f"t{i}"), headers=auth).status_code for i in range(15)]
        assert codes.count(200) == 10 and codes.count(429) == 5 and codes[:10] == [200] * 10
        refused = c.post("/orders", json=body("late"), headers=auth)
        assert refused.status_code == 429 and float(refused.headers["Retry-After"]) > 0
        assert refused.json()["error_type"] == "NetworkException"
        wait_for(lambda: c.post("/orders", json=body("later"), headers=auth).status_code == 200, 3,
                 "the rate window to slide")


def test_tokens_expire_and_refresh():
    with client(token_ttl=0.3) as c:
        auth = token(c)
        assert c.get("/orders", headers=auth).status_code == 200
        expired = wait_for(lambda: (r := c.get("/orders", headers=auth)).status_code == 403 and r, 3, "expiry")
        assert expired.json()["error_type"] == "TokenException"
        assert c.get("/orders", headers=token(c)).status_code == 200
        assert c.post("/session/token", json={"api_key": "lab", "api_secret": "bad"}).status_code == 403


def test_orders_fill_and_tag_is_idempotent():
    with client(fill_delay=0.05) as c:
        auth = token(c)
        first = c.post("/orders", json=body("same"), headers=auth).json()["data"]["order_id"]
        again = c.post("/orders", json=body("same"), headers=auth).json()["data"]["order_id"]
        assert first == again
        book = wait_for(lambda: [o for o in c.get("/orders", headers=auth).json()["data"]
                                 if o["status"] == "COMPLETE"], 3, "the fill")
        assert len(book) == 1 and book[0]["tag"] == "same" and book[0]["filled_quantity"] == 1


def test_tick_stream_sends_several_ticks_per_second():
    with client(tick_interval=0.05) as c:
        with c.websocket_connect("/ws/ticks") as ws:
            ws.send_json({"a": "subscribe", "v": ["NIFTY"]})
            started = time.monotonic()
            ticks = [ws.receive_json() for _ in range(6)]
            assert time.monotonic() - started < 5
    assert all({"instrument", "last_price", "timestamp"} <= set(t) for t in ticks)
