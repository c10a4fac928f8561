"""A steady state is judged on one reading: hold_reads reads /ready, /health, /state and /metrics at once, and
the probes of that thread are answered from it (each path read once); other threads read the API; after
release_reads every read goes to the API again; an error is held as the error."""
import threading

import pytest

from chaosaitrapp.api.client import TraderClient, hold_reads, release_reads
from chaosaitrapp.config import Settings
from chaosaitrapp.errors import ApiError
from chaosaitrapp.metrics import probes as metrics
from chaosaitrapp.testing.lab import free_port
from chaosaitrapp.trader import probes as trader

from .fakeapi import FakeApi

ROUTES = {("GET", "/ready"): (503, {"ready": False, "status": "not_ready"}),
          ("GET", "/health"): (200, {"status": "healthy", "mode": "PAPER"}),
          ("GET", "/state"): (200, {"is_paused": True, "mode": "PAPER"}),
          ("GET", "/metrics"): (200, "trader_is_leader{instance_id=\"a\"} 0.0\n"
                                     "trader_marketdata_heartbeat_seconds 0.1\ntrader_order_stream_heartbeat_seconds 0.2\n"
                                     "trader_scan_heartbeat_seconds 0.3\n")}


def gets(api) -> list:
    return [path for method, path, _ in api.seen if method == "GET"]


def test_a_steady_state_reads_each_path_once_in_its_thread():
    with FakeApi(ROUTES) as api:
        cfg = {"api": api.url}
        held = hold_reads(TraderClient(Settings(api=api.url)), ("/ready", "/health", "/state", "/metrics"))
        try:
            assert held == {"/ready": 503, "/health": 200, "/state": 200, "/metrics": 200}
            assert sorted(gets(api)) == ["/health", "/metrics", "/ready", "/state"]
            # the five probes of a steady state, as the drills have them: answered from the reading
            assert trader.ready_status(cfg) == "not_ready" and trader.health_status(cfg) == "healthy"
            assert trader.is_paused(cfg) is True and metrics.leader_status(cfg) == 0.0
            assert metrics.heartbeat_ages(cfg)["scan"] == 0.3
            assert len(gets(api)) == 4, gets(api)
            other = threading.Thread(target=lambda: trader.health_status(cfg))
            other.start()
            other.join(30)
            assert len(gets(api)) == 5, "another thread (the sampler) reads the API itself"
        finally:
            release_reads()
        assert trader.health_status(cfg) == "healthy" and len(gets(api)) == 6


def test_an_unreachable_api_is_held_as_its_error():
    url = f"http://127.0.0.1:{free_port()}"
    held = hold_reads(TraderClient(Settings(api=url)), ("/ready", "/health"))
    try:
        assert "API unreachable" in held["/ready"]
        with pytest.raises(ApiError, match="API unreachable"):
            trader.ready_status({"api": url})
    finally:
        release_reads()
