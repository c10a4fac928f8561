"""The leader-lock drill on the lab: kill Redis by pid, observe the pause, restart it from its ServiceSpec,
observe recovery. Fast profile always; the aitrapp profile once (slow)."""
from __future__ import annotations

import os
import signal

import pytest
from lab_helpers import get, leader, sample, wait_for

from chaosaitrapp import procs
from chaosaitrapp.lab.runtime import processes
from chaosaitrapp.targets.process import ProcessDriver


def kill_redis(lab) -> None:
    spec = lab.services["redis"]
    pid = processes.running_pid(spec)
    assert pid is not None
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not procs.alive(pid), 15, "redis to exit")


def restart_redis_from_spec(lab) -> None:
    """Restart Redis the way another module would: from lab.json's ServiceSpec alone."""
    spec = lab.services["redis"]
    ProcessDriver(spec.pidfile, argv=spec.argv, cwd=spec.cwd, env=spec.env, log=spec.log, check=spec.check,
                  host=spec.host, port=spec.port).start(timeout=30)


def drill(lab, loss_timeout: float, recovery_timeout: float) -> None:
    assert get(lab, "/ready").status_code == 200 and leader(lab) == 1.0
    kills_before = sample(lab, "trader_kill_switch_total", {"reason": "leader_lock_lost"})
    changes_before = sample(lab, "trader_leader_changes_total")
    kill_redis(lab)

    wait_for(lambda: get(lab, "/state").json()["is_paused"] is True, loss_timeout, "the orchestrator to pause")
    ready = get(lab, "/ready")
    assert ready.status_code == 503
    body = ready.json()
    assert body["leader"] == 0 and body["status"] == "not_ready" and body["heartbeat_max"] == 5.0
    assert leader(lab) == 0.0
    health = get(lab, "/health")
    assert health.status_code == 200 and health.json()["status"] == "healthy"
    assert sample(lab, "trader_kill_switch_total", {"reason": "leader_lock_lost"}) == kills_before + 1

    restart_redis_from_spec(lab)
    wait_for(lambda: get(lab, "/ready").status_code == 200, recovery_timeout, "/ready 200 after Redis is back")
    body = get(lab, "/ready").json()
    assert body["status"] == "ready" and body["leader"] == 1
    assert all(body[k] < 5 for k in ("marketdata_heartbeat", "order_stream_heartbeat", "scan_heartbeat"))
    assert get(lab, "/state").json()["is_paused"] is False
    assert leader(lab) == 1.0
    assert sample(lab, "trader_leader_changes_total") == changes_before + 1


def test_leader_drill_fast(lab_factory):
    lab = lab_factory(profile="fast")
    drill(lab, loss_timeout=10, recovery_timeout=30)


def test_manual_pause_survives_lock_recovery(lab_factory):
    lab = lab_factory(profile="fast")
    assert get(lab, "/ready").status_code == 200
    assert get(lab, "/state").json()["is_paused"] is False
    from lab_helpers import post

    post(lab, "/pause")
    kill_redis(lab)
    wait_for(lambda: leader(lab) == 0.0, 10, "leadership loss")
    restart_redis_from_spec(lab)
    wait_for(lambda: leader(lab) == 1.0, 30, "leadership back")
    assert get(lab, "/state").json()["is_paused"] is True  # the operator's pause stays
    post(lab, "/resume")
    assert get(lab, "/state").json()["is_paused"] is False


@pytest.mark.slow
def test_leader_drill_aitrapp_profile(lab_factory):
    lab = lab_factory(profile="aitrapp")
    assert lab.timings == {"lock_ttl": 30.0, "refresh": 10.0, "backoff_max": 30.5, "heartbeat_max": 5.0,
                           "ticker_max_delay": 60.0}
    # loss within refresh (10 s) + socket timeout; recovery bounded by the stale key's TTL (30 s)
    # plus the backoff step in progress when it expires (up to 30.5 s).
    drill(lab, loss_timeout=20, recovery_timeout=75)
