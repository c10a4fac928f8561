"""The trader app built in-process by its factory: settings passed in, own metrics registry, leader 999."""
from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from chaosaitrapp.lab.trader.app import create_app
from chaosaitrapp.lab.trader.lock import LOCK_KEY
from chaosaitrapp.lab.trader.settings import TraderSettings
from chaosaitrapp.testing.lab import free_ports


def test_leader_999_when_lock_never_taken(redis_server):
    host, port = redis_server
    redis.Redis(host=host, port=port).set(LOCK_KEY, "someone-else", px=60000)
    dead_db, dead_broker = free_ports(2)
    settings = TraderSettings(redis_url=f"redis://{host}:{port}/0",
                              database_url=f"postgresql://trader:x@127.0.0.1:{dead_db}/aitrapp",
                              kite_root=f"http://127.0.0.1:{dead_broker}", kite_ticker_root=f"ws://127.0.0.1:{dead_broker}")
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/health").json()["status"] == "healthy"
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["leader"] == 999 and ready.json()["heartbeat_max"] == 5.0
        assert client.get("/state").json()["is_paused"] is False
        down = client.post("/orders", json={"client_order_id": "c1", "symbol": "NIFTY", "side": "BUY",
                                            "quantity": 1, "price": 1.0})
        assert down.status_code == 503 and down.headers["Retry-After"] == "1"
        assert "trader_is_leader{" in client.get("/metrics").text


def test_each_app_has_its_own_registry(redis_server):
    host, port = redis_server
    a = create_app(TraderSettings(redis_url=f"redis://{host}:{port}/0"))
    b = create_app(TraderSettings(redis_url=f"redis://{host}:{port}/0"))
    assert a.state.trader.metrics.registry is not b.state.trader.metrics.registry
