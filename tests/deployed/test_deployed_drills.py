"""Every drill against a target deployed by hand (no lab, no lab state file), through the real-deployment
path: the deployment description, a Redis restarted as it ran from its pidfile, a Postgres container, the
fault proxies started with `aitrapp-chaos proxy`, lock timing learned from the lock key; and doctor's view
of it. The same verdicts as on the lab."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from drills.kit import CHAOS, FAST_ENV, ROOT, drill_env, ledger_entries, run_drill, run_script

from chaosaitrapp.gray.balloon import PREFIX as BALLOON_PREFIX
from chaosaitrapp.targets.answers import redis_answers
from chaosaitrapp.targets.process import listening_port
from chaosaitrapp.waiting import wait_until
from deployed.target import deployed_target

AITRAPP_CHAOS = str(Path(sys.executable).with_name("aitrapp-chaos"))


@pytest.fixture(scope="module")
def target(docker_engine):
    with deployed_target(docker_engine, clock=True) as deployed:  # the trader with the wall-clock shim
        yield deployed


def ready(deployed) -> bool:
    try:
        return requests.get(deployed.api + "/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def drill(name, deployed, tmp_path, **extra):
    """`chaos run` of a bundled drill against ``deployed``, once it is ready again."""
    assert wait_until(lambda: ready(deployed), bool, timeout=30, interval=0.1).held, "the target is not ready"
    return run_drill(name, None, tmp_path, {**FAST_ENV, **deployed.env, **extra})


def assert_pass(run, name):
    assert run.code == 0 and run.fields["test_result"] == "PASS", \
        f"{name}: exit {run.code}; {run.reasons}\n{run.output[-3000:]}"


def test_doctor_previews_the_deployment_and_names_what_does_not_apply(target):
    # the description names the database secret by an environment variable: a user runs doctor with it set
    env = {**os.environ, **target.env}
    proc = subprocess.run([AITRAPP_CHAOS, "doctor", "--deployment", str(target.description)], capture_output=True,
                          text=True, timeout=120, env=env)
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"deployment description {target.description}" in out.splitlines()[0]
    assert "leader_lock: ready" in out
    assert f"stops redis: process:{target.pidfiles['redis']}, started again as `" in out
    assert "clock_jump: ready" in out and f"steps the wall clock of the trader reading {target.directory}" in out
    assert "postgres_hang: ready" in out and "locks orders in the Postgres reached through the DATABASE_URL secret" in out
    assert "postgres_blip: ready" in out and "stops postgres: docker:postgres (project deployed" in out
    # the stall drills hold their length against the lease window: doctor learns the timing (the lock key's PTTL)
    assert re.search(r"timing: lock_ttl 3 s \(learned from PTTL trader:leader through process:", out), out
    assert out.count("timing: lock_backoff_max unknown") == 1, "the timing is the deployment's: said once"
    assert "redis_stall: ready" in out and re.search(r"stalls process:\S+ \(port \d+\) for 4.5s", out)
    assert "broker faults" in out and "partitions redis (blackhole) through the TCP fault proxy" in out
    assert "split_brain_pause" not in out, "one instance: the default selection leaves the split-brain drills out"
    named = subprocess.run([AITRAPP_CHAOS, "doctor", "--deployment", str(target.description), "split_brain_pause"],
                           capture_output=True, text=True, timeout=120)
    assert named.returncode == 2 and "split_brain_pause: not applicable" in named.stdout
    assert "needs at least two replicas" in named.stdout


def test_leader_lock_restarts_a_redis_known_by_its_pidfile_alone(target, tmp_path):
    before = target.pid("redis")
    run = drill("leader_lock", target, tmp_path)
    assert_pass(run, "leader_lock")
    assert target.pid("redis") != before, "Redis was stopped and started again"
    assert run.fields["target_lock_ttl_s"] == "3" and "learned from PTTL" in run.fields["target_lock_ttl_source"]
    assert run.fields["target_lock_refresh_s"] == "0.5"
    assert ledger_entries(tmp_path / "state") == []


#: The deadlines the lab's own drill tests give each family (tests/drills): detection waits for a stale
#: market-data heartbeat (HEARTBEAT_MAX 5 s) need more than 4 s.
DEADLINES = {"broker_token_expiry": {"DETECT_TIMEOUT": "9"}, "websocket_reconnect": {"DETECT_TIMEOUT": "9"},
             "network_partition_redis": {"DETECT_TIMEOUT": "8", "PARTITION_SECONDS": "4"},
             "network_partition_postgres": {"DETECT_TIMEOUT": "8", "PARTITION_SECONDS": "4"},
             "network_partition_broker": {"DETECT_TIMEOUT": "8", "PARTITION_SECONDS": "4"},
             "network_latency_redis": {"DETECT_TIMEOUT": "8"}, "redis_stall": {"DETECT_TIMEOUT": "8"},
             "postgres_hang": {"HANG_SECONDS": "10", "ANSWER_MAX": "7"}, "redis_stall_brief": {"DETECT_TIMEOUT": "8"},
             "cpu_stress": {"STRESS_SECONDS": "6", "STRESS_ORDERS": "4"},
             "memory_stress": {"STRESS_SECONDS": "6", "STRESS_ORDERS": "4", "STRESS_WORKERS": "1"},
             "broker_order_states": {"ORDER_STATE": "partial_fill", "ORDER_STATE_S": "1", "CONVERGE_TIMEOUT": "8"}}


@pytest.mark.parametrize("name", ["postgres_blip", "rate_limit_spike", "broker_token_expiry", "websocket_reconnect",
                                  "network_partition_redis", "network_partition_postgres", "network_partition_broker",
                                  "network_latency_redis", "cpu_stress", "memory_stress", "redis_stall",
                                  "redis_stall_brief", "postgres_hang", "clock_jump", "clock_token_expiry",
                                  "trader_crash", "broker_order_states"])
def test_drills_pass_against_the_deployed_target(name, target, tmp_path):
    assert_pass(drill(name, target, tmp_path, **DEADLINES.get(name, {})), name)


def test_the_rollback_starts_the_redis_again_as_it_ran(target, tmp_path):
    """SIGTERM while Redis is down: the rollback starts it from the ledger's recipe (its command, its port)."""
    assert wait_until(lambda: ready(target), bool, timeout=30, interval=0.1).held
    env = drill_env(None, tmp_path, {**FAST_ENV, **target.env, "WAIT_READY_TIMEOUT": "20"})
    Path(env["AITRAPP_REPORTS_DIR"]).mkdir(parents=True, exist_ok=True)
    port = listening_port(target.pid("redis"))
    chaos = subprocess.Popen([CHAOS, "--no-version-check", "run", "--journal-path", str(tmp_path / "j.json"),
                              str(ROOT / "experiments" / "leader_lock.json")], env=env, cwd=ROOT,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        down = wait_until(lambda: not redis_answers("127.0.0.1", port), bool, timeout=60, interval=0.02)
        assert down.held, "the drill never stopped Redis"
        chaos.send_signal(signal.SIGTERM)
        chaos.wait(120)
    finally:
        if chaos.poll() is None:
            chaos.kill()
    assert redis_answers("127.0.0.1", port), "the rollback did not start Redis again on its port"
    assert ledger_entries(tmp_path / "state") == []


def test_a_refused_drill_leaves_the_deployed_target_untouched(target, tmp_path):
    redis_before, trader_before = target.pid("redis"), target.pid("trader")
    began = time.monotonic()
    run = run_script("chaos_test_leader_lock.sh", None, tmp_path,
                     {**FAST_ENV, **target.env, "REDIS_TARGET": "process:/nonexistent/redis.pid",
                      "PAUSE_ON_FAIL": "1", "NONINTERACTIVE": "1"})
    assert run.code == 2 and time.monotonic() - began < 10, run.output[-2000:]
    assert target.pid("redis") == redis_before and target.pid("trader") == trader_before
    state = requests.get(target.api + "/state", timeout=2).json()
    assert state["is_paused"] is False and state["mode"] == "PAPER"


def test_disk_full_fills_the_deployed_postgres_volume_and_leaves_it_as_it_was(target, tmp_path):
    """Postgres out of space on a hand-deployed target: the balloon on the host path of its container's data volume
    (the user names it: POSTGRES_VOLUME), a write of the drill's own refused with SQLSTATE 53100, no acknowledged
    order lost, the balloon gone after."""
    volume = target.pg_volume
    free_before = shutil.disk_usage(volume).free
    run = drill("postgres_hang", target, tmp_path, POSTGRES_FAULT="disk_full", POSTGRES_VOLUME=str(volume),
                HANG_SECONDS="8", ANSWER_MAX="7", BROKER_ORDERS="20")
    assert_pass(run, "postgres_hang disk_full")
    filled = next(e for e in run.timeline_events()
                  if e.get("event") == "fault_injected" and str(e.get("target")).startswith("balloon:"))
    assert "No space left on device" in filled["detail"] and filled["filled_bytes"] > 0, filled
    assert not [p for p in volume.iterdir() if p.name.startswith(BALLOON_PREFIX)], "the balloon was deleted"
    assert shutil.disk_usage(volume).free > free_before - 32 * 1024 ** 2
    assert ledger_entries(tmp_path / "state") == []
