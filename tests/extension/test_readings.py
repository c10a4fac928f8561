"""One reading of the target shared by the probes that follow one another: take_reading reads /ready, /health,
/state and /metrics at once, and each activity's first read of a path in that thread is answered from it; other
threads read the API; an action, a pause, any newer read and age end it; an error is held as the error; the
evidence control takes one before a probe of the method and a snapshot uses it."""
import threading

import pytest

from chaosaitrapp.api import client as api_client
from chaosaitrapp.api.client import TraderClient, begin_activity, forget_reading, reading_covers, take_reading
from chaosaitrapp.config import Settings
from chaosaitrapp.controls.reading import begin_reading, end_reading
from chaosaitrapp.errors import ApiError
from chaosaitrapp.evidence.observe import OBSERVED_PATHS
from chaosaitrapp.evidence.probes import snapshot_metrics
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


@pytest.fixture(autouse=True)
def no_reading_left():
    forget_reading()
    yield
    forget_reading()


def gets(api) -> list:
    return [path for method, path, _ in api.seen if method == "GET"]


def probe(module: str) -> dict:
    return {"type": "probe", "name": "p", "provider": {"type": "python", "module": module, "func": "f"}}


class MethodRun:
    """What begin_reading reads of the run in progress: the method began, not a dry run."""
    method_started, dry = True, False


def test_a_steady_state_reads_each_path_once_in_its_thread():
    with FakeApi(ROUTES) as api:
        cfg = {"api": api.url}
        taken = take_reading(TraderClient(Settings(api=api.url)), ("/ready", "/health", "/state", "/metrics"))
        assert taken == {"/ready": 503, "/health": 200, "/state": 200, "/metrics": 200}
        assert sorted(gets(api)) == ["/health", "/metrics", "/ready", "/state"]
        # the five probes of a steady state, each an activity of its own: answered from the reading
        for read in (lambda: trader.ready_status(cfg) == "not_ready", lambda: trader.health_status(cfg) == "healthy",
                     lambda: trader.is_paused(cfg) is True, lambda: metrics.leader_status(cfg) == 0.0,
                     lambda: metrics.heartbeat_ages(cfg)["scan"] == 0.3):
            begin_activity(action=False)
            assert read()
        assert len(gets(api)) == 4, gets(api)
        other = threading.Thread(target=lambda: trader.health_status(cfg))
        other.start()
        other.join(30)
        assert len(gets(api)) == 5, "another thread (the sampler) reads the API itself"


def test_an_activity_is_served_once_per_path_and_a_newer_read_ends_the_reading():
    with FakeApi(ROUTES) as api:
        cfg = {"api": api.url}
        client = TraderClient(Settings(api=api.url))
        take_reading(client, OBSERVED_PATHS)
        begin_activity(action=False)
        assert metrics.leader_status(cfg) == 0.0 and len(gets(api)) == 4
        assert metrics.leader_status(cfg) == 0.0 and len(gets(api)) == 5, "a wait's second poll reads the API"
        begin_activity(action=False)
        assert trader.is_paused(cfg) is True and len(gets(api)) == 6, "after a newer read the reading is not current"
        assert not reading_covers(client, OBSERVED_PATHS)


@pytest.mark.parametrize("ends", ["action", "pause-before", "pause-after", "age"])
def test_an_action_a_pause_or_age_ends_the_reading(ends, monkeypatch):
    with FakeApi(ROUTES) as api:
        client = TraderClient(Settings(api=api.url))
        take_reading(client, OBSERVED_PATHS)
        if ends == "action":
            begin_reading(MethodRun(), {"type": "action", "name": "stop"}, {"api": api.url}, None)
        elif ends == "pause-before":
            begin_reading(None, {**probe("elsewhere"), "pauses": {"before": 1}}, {"api": api.url}, None)
        elif ends == "pause-after":
            end_reading({**probe("elsewhere"), "pauses": {"after": 1}})
        else:
            monkeypatch.setattr(api_client, "READING_MAX_AGE_S", 0.0)
        assert not reading_covers(client, OBSERVED_PATHS)
        begin_activity(action=False)
        assert trader.health_status({"api": api.url}) == "healthy" and len(gets(api)) == 5


def test_probes_of_the_method_share_one_reading_with_the_snapshot_after_them():
    with FakeApi(ROUTES) as api:
        cfg = {"api": api.url}
        begin_reading(MethodRun(), probe("chaosaitrapp.metrics.probes"), cfg, None)
        assert gets(api) == [], "the reading is taken at the probe's first read of the target"
        assert metrics.leader_status(cfg) == 0.0
        assert sorted(gets(api)) == ["/health", "/metrics", "/ready", "/state"], "one reading at that read"
        begin_reading(MethodRun(), probe("chaosaitrapp.trader.probes"), cfg, None)
        assert trader.is_paused(cfg) is True
        begin_reading(MethodRun(), probe("chaosaitrapp.evidence.probes"), cfg, None)
        snap = snapshot_metrics("after_recovery", cfg)
        assert snap["leader"] == 0.0 and snap["paused"] is True and snap["health"] == "healthy", snap
        assert len(gets(api)) == 4, f"three probes, one reading: {gets(api)}"
        begin_reading(MethodRun(), probe("another.extension"), cfg, None)
        assert len(gets(api)) == 4, "no reading for a probe that does not read the API through us"


def test_a_probe_that_never_reads_the_target_takes_no_reading():
    with FakeApi(ROUTES) as api, FakeApi(ROUTES) as other:
        begin_reading(MethodRun(), probe("chaosaitrapp.trader.probes"), {"api": api.url}, None)
        assert trader.health_status({"api": other.url}) == "healthy"  # another replica's API only
        assert gets(api) == [] and gets(other) == ["/health"]


def test_a_snapshot_without_a_current_reading_takes_one():
    with FakeApi(ROUTES) as api:
        snap = snapshot_metrics("before", {"api": api.url})
        assert snap["ready"] is False and snap["leader"] == 0.0 and isinstance(snap["latency_ms"], float)
        assert sorted(gets(api)) == ["/health", "/metrics", "/ready", "/state"]


def test_an_unreachable_api_is_held_as_its_error():
    url = f"http://127.0.0.1:{free_port()}"
    taken = take_reading(TraderClient(Settings(api=url)), ("/ready", "/health"))
    assert "API unreachable" in taken["/ready"]
    begin_activity(action=False)
    with pytest.raises(ApiError, match="API unreachable"):
        trader.ready_status({"api": url})
