"""Signal torture for the drills whose faults live in the fault proxies: `chaos run` of the token-expiry
drill, of each WebSocket variant, of each network partition, of the Redis stall, of the Postgres hang (a lock, a full disk) and of the clock
jumps (by seconds, and to the token expiry), of the trader crash (the restart in the ledger: the trader is
running again whatever step the run died at) and of the broker's order states, interrupted by SIGKILL (and
SIGINT/SIGTERM) while its faults are in place, leaves both proxies without faults, the ledger empty
and the trader ready and streaming again within the fault lease; a fault proxy that dies with a fault
registered is brought back by the ledger's undo. (Kernel partitions: tests/network/test_kernel_partition.py,
in a namespace of their own.)

Plan: ``random.Random(20261201)``; per drill variant one SIGKILL and one SIGINT or SIGTERM (alternating),
each ``delay`` (uniform 0-1.5 s; 0-0.5 s for the crash drill, which kills and restarts within a second) after the first fault event (broker fault or partition); one fast lab for all trials,
``AITRAPP_FAULT_LEASE=20``. The table is printed at the end (``pytest -s``).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from drills.checks import assert_lab_whole
from drills.kit import start_lab

from .trials import TrialPlan, assert_left_whole, format_summary, lab_missing, run_trial

SEED = 20261201
LEASE = 20.0
DEADLINES = (("DETECT_TIMEOUT", "9"), ("WAIT_READY_TIMEOUT", "10"))
VARIANTS = [("broker_token_expiry", ()), ("websocket_reconnect", (("WS_FAULT", "close"),)),
            ("websocket_reconnect", (("WS_FAULT", "stall"),)), ("websocket_reconnect", (("WS_FAULT", "restart"),)),
            ("network_partition_redis", ()), ("network_partition_postgres", (("PARTITION_SECONDS", "4"),)),
            ("network_partition_broker", (("PARTITION_SECONDS", "4"),)), ("redis_stall", (("STALL_SECONDS", "4"),)),
            ("postgres_hang", (("HANG_SECONDS", "6"),)), ("clock_jump", (("CLOCK_HOLD", "6"),)), ("clock_token_expiry", ()),
            ("postgres_hang", (("POSTGRES_FAULT", "disk_full"), ("HANG_SECONDS", "6"), ("BROKER_ORDERS", "20"))),
            ("trader_crash", (("CRASH_POINT", "after_broker_ack"),)), ("trader_crash", (("CRASH_POINT", "queue_full"),)),
            ("broker_order_states", (("ORDER_STATE", "partial_fill"), ("ORDER_STATE_S", "1"),
                                     ("CONVERGE_TIMEOUT", "8")))]
FIRST_ROLLBACKS = ("clear-broker-faults", "heal-the-partition", "end-the-stall", "end-the-hang", "put-the-clock-back",
                   "start-the-trader-again")


def plan() -> list:
    rng = random.Random(SEED)
    plans = []
    for i, (drill, env) in enumerate(VARIANTS):
        for j, sig in enumerate(("SIGKILL", "SIGINT" if i % 2 == 0 else "SIGTERM")):
            # the crash drill kills and restarts within about a second of arming: its signals land within 0.5 s
            latest = 0.5 if drill == "trader_crash" else 1.5
            plans.append(TrialPlan(drill, 2 * i + j, sig, "fault", rng.uniform(0.0, latest), env + DEADLINES))
    return plans


PLANS = plan()
pytestmark = pytest.mark.torture


@pytest.fixture(scope="module")
def proxy_lab():
    # the trader with the wall-clock shim (the clock drills), Postgres on a volume of its own (disk_full)
    lab = start_lab(profile="fast", fake_clock=True, pg_volume_mb=128)
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def summary():
    rows = []
    began = time.monotonic()
    yield rows
    print("\n\nBroker signal torture summary\n" + format_summary(rows, time.monotonic() - began))


@pytest.mark.parametrize("plan", PLANS, ids=[p.id for p in PLANS])
def test_signal_with_broker_faults_in_place_leaves_lab_whole(plan, proxy_lab, tmp_path, summary):
    assert lab_missing(proxy_lab) == [], "the lab is not whole before the trial"
    result = run_trial(plan, proxy_lab, tmp_path, LEASE)
    summary.append(result.summary())
    assert_left_whole(result, proxy_lab, tmp_path, LEASE, "a broker fault is in place", FIRST_ROLLBACKS)


def test_a_dead_proxy_is_restarted_by_the_ledgers_undo(proxy_lab, tmp_path):
    """A fault registered, then the proxy SIGKILLed: ``aitrapp-chaos cleanup`` restarts it from its recipe,
    the fault is gone (a restarted proxy has none) and the trader is ready again."""
    env = {**os.environ, "AITRAPP_CHAOS_STATE": str(tmp_path / "state"), "API": proxy_lab.api,
           "AITRAPP_LAB_DIR": str(proxy_lab.directory)}
    code = ("from chaosaitrapp.broker.actions import inject_broker_fault\n"
            "from chaosaitrapp.deployment.description import apply\n"
            "cfg = {}\n"
            "apply(cfg, {})  # the lab's description, as the controls apply it\n"
            "print(inject_broker_fault('ws_stall', 60, {'scope': 'all'}, configuration=cfg)['fault_id'])")
    injected = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert injected.returncode == 0, injected.stderr
    control = proxy_lab.state.endpoints["broker_proxy"]
    assert requests.get(control + "/faults", timeout=2).json()["faults"]
    pid = proxy_lab.pid("broker_proxy")
    os.kill(pid, signal.SIGKILL)
    cleanup = subprocess.run([str(Path(sys.executable).with_name("aitrapp-chaos")), "cleanup"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    assert requests.get(control + "/faults", timeout=2).json()["faults"] == []
    ledger = json.loads((tmp_path / "state" / "ledger.json").read_text())
    assert ledger["entries"] == []
    assert_lab_whole(proxy_lab, tmp_path, timeout=LEASE)
