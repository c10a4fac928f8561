"""Pure units: throttle bucket and queue (injected clock/sleep), orchestrator, defects, profiles, settings."""
from __future__ import annotations

import asyncio
import os
import time
from typing import List

import pytest

from chaosaitrapp.errors import ConfigError
from chaosaitrapp.lab.defects import KNOWN_DEFECTS, parse_defects
from chaosaitrapp.lab.errors import DefectRefused, UnknownDefect
from chaosaitrapp.lab.profiles import PROFILES, get_profile
from chaosaitrapp.lab.runtime.config import LabConfig
from chaosaitrapp.lab.trader.kite import kite_tag
from chaosaitrapp.lab.trader.orchestrator import LOCK_LOST, MANUAL, STALE_AGE, Orchestrator
from chaosaitrapp.lab.trader.settings import TraderSettings
from chaosaitrapp.lab.trader.throttle import RetryLater, ThrottleQueue, TokenBucket
from chaosaitrapp.orderids import order_id, run_prefix


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_burst_then_rate():
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    assert [bucket.take() for _ in range(20)] == [0.0] * 20
    assert bucket.take() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.take() == 0.0
    clock.now += 100
    assert [bucket.take() for _ in range(20)] == [0.0] * 20  # refill is capped at the burst


def test_throttle_queue_retries_later_and_loses_nothing():
    clock = Clock()
    sent: List[str] = []
    depths: List[int] = []
    refusals = {"b": 2}

    async def send(order):
        if refusals.get(order["client_order_id"], 0):
            refusals[order["client_order_id"]] -= 1
            raise RetryLater(0.5, "429")
        sent.append(order["client_order_id"])

    async def scenario():
        queue = ThrottleQueue(send, rate=10, burst=2, on_depth=depths.append, clock=clock)
        for cid in "abc":
            assert queue.put({"client_order_id": cid})
        assert queue.put({"client_order_id": "a"}) is False  # already queued
        delays = []
        while True:
            delay = await queue.drain_once()
            if delay is None:
                break
            delays.append(round(delay, 3))
            clock.now += delay
        return queue, delays

    queue, delays = asyncio.run(scenario())
    assert sent == ["a", "b", "c"]
    assert delays == [0.0, 0.5, 0.5, 0.0, 0.0]  # a sent; b refused twice; b, c sent
    assert depths[0] == 1 and max(depths) == 3 and depths[-1] == 0 and queue.depth == 0


def test_orchestrator_pause_reasons_and_heartbeats():
    clock = Clock()
    orch = Orchestrator(clock=clock)
    orch.pause(MANUAL)
    orch.pause(LOCK_LOST)
    orch.resume(LOCK_LOST)
    assert orch.is_paused  # a manual pause survives regaining the lock
    orch.resume(MANUAL)
    assert not orch.is_paused
    orch.beat("scan")
    clock.now += 2
    assert orch.age("scan") == 2 and orch.age("marketdata") == 2
    orch.freeze_heartbeats()
    assert orch.age("scan") == 2 + STALE_AGE  # stale at once
    orch.beat("scan")
    clock.now += 5
    assert orch.age("scan") == 7 + STALE_AGE
    with pytest.raises(ValueError):
        orch.beat("nope")


def test_defect_names_are_validated():
    assert parse_defects("never_pause, ready_lies") == {"never_pause", "ready_lies"}
    assert parse_defects(None) == frozenset() and parse_defects("") == frozenset()
    with pytest.raises(UnknownDefect) as err:
        parse_defects(["never_pause", "explode"])
    assert "explode" in str(err.value) and "never_pause" in str(err.value)
    assert isinstance(err.value, ConfigError)
    assert KNOWN_DEFECTS == {"never_pause", "never_reacquire", "stale_heartbeats", "duplicate_orders", "ready_lies",
                             "no_token_refresh", "refresh_storm", "duplicate_on_retry", "ws_never_reconnects",
                             "ws_no_resubscribe", "trades_on_stale_feed", "no_redis_timeout",
                             "health_blocks_on_db", "blind_resend", "no_fencing", "blocking_scan", "memory_leak_under_load",
                             "counts_refusals_as_refreshes", "heartbeat_from_simulator", "reuses_tag",
                             "db_write_without_timeout", "lease_on_wall_clock", "heartbeat_on_wall_clock",
                             "write_behind_orders", "no_reconcile_on_start", "resend_on_start", "queue_in_memory",
                             "trusts_placement_ack", "ignores_partial_fills", "no_status_poll",
                             "drops_queue_on_paused_refresh", "reconnects_on_wall_clock"}


def test_defects_refused_in_live():
    with pytest.raises(DefectRefused):
        TraderSettings(mode="LIVE", defects=frozenset({"ready_lies"}))
    with pytest.raises(DefectRefused):
        LabConfig(lab_dir="/tmp/x", mode="LIVE", defects=["never_pause"]).validate()
    with pytest.raises(UnknownDefect):
        LabConfig(lab_dir="/tmp/x", defects=["bogus"]).validate()


def test_profiles():
    aitrapp, fast = get_profile("aitrapp"), get_profile("fast")
    assert (aitrapp.lock_ttl, aitrapp.lock_refresh, aitrapp.backoff, aitrapp.jitter) == (
        30, 10, (1, 2, 4, 8, 15, 30), 0.5)
    for profile in PROFILES.values():
        assert profile.scan_period < 2 and profile.order_stream_period < 2
        assert profile.lock_refresh < profile.lock_ttl
    assert fast.lock_ttl < aitrapp.lock_ttl
    assert aitrapp.timings()["backoff_max"] == 30.5
    with pytest.raises(ValueError):
        get_profile("slow")


def test_settings_from_env_and_secrets_not_in_repr():
    settings = TraderSettings.from_env({"API_SECRET_KEY": "s3cr3t-key", "DATABASE_URL": "postgresql://u:pw@h/db",
                                        "TRADER_PORT": "9999", "AITRAPP_LAB_PROFILE": "aitrapp",
                                        "AITRAPP_LAB_DEFECTS": "ready_lies"})
    assert settings.port == 9999 and settings.profile.name == "aitrapp" and settings.api_key == "s3cr3t-key"
    assert settings.defects == {"ready_lies"} and settings.mode == "PAPER"
    assert "s3cr3t-key" not in repr(settings) and "pw" not in repr(settings)
    with pytest.raises(ValueError):
        TraderSettings.from_env({"TRADER_MODE": "YOLO"})


def test_pid_matches_the_launcher_before_its_exec(tmp_path):
    """A pid read from the pidfile while the detached launcher has not yet exec'd is the service's."""
    import subprocess

    from chaosaitrapp.procs import cmdline
    from chaosaitrapp.targets.process import runs_command
    from chaosaitrapp.waiting import wait_until

    argv = ["sleep", "30"]
    # the launcher's own shape, held before its exec by a read on a pipe that never gets data
    launcher = subprocess.Popen(["sh", "-c", 'read x; exec "$@"', str(tmp_path / "p.pid"), *argv],
                                stdin=subprocess.PIPE)
    try:
        assert wait_until(lambda: cmdline(launcher.pid)[:1] == ["sh"], bool, timeout=5, interval=0.01).held
        assert runs_command(launcher.pid, argv)
        assert not runs_command(launcher.pid, ["sleep", "31"])
    finally:
        launcher.kill()
        launcher.wait()



def test_a_start_is_declared_dead_only_when_its_process_is_gone(tmp_path):
    """``processes.exited``: a live process whose command line reads empty (as inside an exec; here a
    kernel thread, which always reads empty) is still starting; gone, recycled or no pid: exited."""
    import subprocess

    import psutil

    from chaosaitrapp.lab.runtime import processes
    from chaosaitrapp.targets.labstate import ServiceSpec

    pidfile = tmp_path / "svc.pid"
    spec = ServiceSpec(name="svc", kind="process", host="127.0.0.1", port=1, check="http",
                       pidfile=str(pidfile), argv=["sleep", "30"])
    assert processes.exited(spec)  # no pid yet
    kernel_threads = [p.pid for p in psutil.process_iter(["ppid"]) if p.info["ppid"] == 2]
    assert kernel_threads, "this test needs a kernel thread (a live process with an empty command line)"
    pidfile.write_text(f"{kernel_threads[0]}\n")
    assert not processes.exited(spec)
    sleeper = subprocess.Popen(["sleep", "30"])
    other = subprocess.Popen(["tail", "-f", "/dev/null"])
    try:
        pidfile.write_text(f"{sleeper.pid}\n")
        assert not processes.exited(spec)
        pidfile.write_text(f"{other.pid}\n")
        assert processes.exited(spec)  # a recycled pid: another program
    finally:
        for process in (sleeper, other):
            process.kill()
            process.wait()
    pidfile.write_text(f"{sleeper.pid}\n")
    assert processes.exited(spec)

def test_a_service_that_dies_while_starting_is_reported_with_what_it_printed_since_its_launch(tmp_path):
    """The error of a service that exits while starting shows the lines it wrote since this launch, never an earlier
    run's (CI once showed a Postgres killed at start with only its initdb lines); none written: a likely signal."""
    from chaosaitrapp.lab.errors import LabError
    from chaosaitrapp.lab.runtime import processes
    from chaosaitrapp.lab.runtime.lifecycle import _wait
    from chaosaitrapp.targets.labstate import ServiceSpec

    log = tmp_path / "svc.log"
    log.write_text("initdb: an earlier step's line\n")
    for script, shown in (("echo boom; exit 3", "boom"), ("kill -9 $$", "likely killed by a signal")):
        spec = ServiceSpec(name="svc", kind="process", host="127.0.0.1", port=1, check="http",
                           pidfile=str(tmp_path / "svc.pid"), argv=["sh", "-c", script], log=str(log))
        processes.launch(spec)
        with pytest.raises(LabError) as raised:
            _wait(lambda: False, 10, "svc answering", spec)
        assert shown in str(raised.value) and "earlier step" not in str(raised.value), str(raised.value)


def test_the_lab_tags_an_order_with_its_id_when_that_is_a_valid_kite_tag():
    mine = order_id(run_prefix("8285f5a768b3"), 3)
    assert kite_tag(mine) == mine
    old = "chaos-8285f5a768b3-00003"  # the old shape: no valid tag as it is
    assert kite_tag(old) != old and len(kite_tag(old)) == 20 and kite_tag(old).isalnum()


def test_the_wall_clock_shim_moves_the_wall_clock_only(tmp_path):
    """A Python process started with the shim: a step back and forward of its clock file moves ``time.time()``
    within 20 ms, never ``time.monotonic()``, a drift (``+0 x0.25``) makes its wall clock run a quarter as fast
    until the file holds ``+0`` again, and a sleep beside a busy thread (the GIL handed over on a timed
    wait) still takes what it asked (libfaketime's 300 s waits after a step back: the reason for the shim)."""
    import subprocess
    import sys

    from chaosaitrapp.targets.wallclock import ClockSetting, build_shim, wallclock_env, write_clock
    from chaosaitrapp.waiting import wait_until

    clock = tmp_path / "trader.offset"
    env = {**os.environ, **wallclock_env(clock, build_shim(tmp_path / "build"))}
    script = ("import sys, threading, time\n"
              "threading.Thread(target=lambda: sum(range(10**9)), daemon=True).start()\n"
              "for line in sys.stdin:\n"
              "    m = time.monotonic(); time.sleep(0.05)\n"
              "    print(time.time() - time.clock_gettime(time.CLOCK_REALTIME) == 0, time.time(), time.monotonic(),"
              " time.monotonic() - m, flush=True)\n")
    child = subprocess.Popen([sys.executable, "-c", script], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        def ask_now(process) -> list:
            process.stdin.write("\n")
            process.stdin.flush()
            return [float(f) for f in process.stdout.readline().split()[1:3]]

        def ask(offset: float) -> list:
            write_clock(clock, ClockSetting(offset))
            applied = wait_until(lambda: ask_now(child)[0] - time.time(), lambda off: abs(off - offset) < 1.0,
                                 timeout=2.0, interval=0.005, what=f"the shim to read {offset:+g}")
            assert applied.held, f"the child's clock never moved by {offset:+g}s: {applied.value}"
            child.stdin.write("\n")
            child.stdin.flush()
            fields = child.stdout.readline().split()
            return [float(f) for f in fields[1:]] + [time.time(), time.monotonic()]

        def rate() -> float:
            """The child's wall clock over its monotonic clock across 0.1 s (a span to measure over)."""
            a = ask_now(child)
            time.sleep(0.1)
            b = ask_now(child)
            return (b[0] - a[0]) / max(1e-9, b[1] - a[1])

        for offset in (0.0, -300.0, 3600.0, 0.0):
            wall, mono, slept, our_wall, our_mono = ask(offset)
            assert abs(wall - (our_wall + offset)) < 1.0, (offset, wall - our_wall)
            assert abs(mono - our_mono) < 1.0, "the monotonic clock never moves"
            assert 0.05 <= slept < 0.5, f"a 50 ms sleep took {slept:.3f}s after a step of {offset:+g}s"

        write_clock(clock, ClockSetting(0.0, 0.25))
        drifting = wait_until(rate, lambda r: abs(r - 0.25) < 0.1, timeout=3.0, interval=0.01, what="the drift")
        assert drifting.held, f"the child's clock never ran at x0.25: {drifting.value}"
        first = ask_now(child)
        time.sleep(1.0)  # a span of real time to measure the drift over, not a wait for a state
        ask_again = ask_now(child)
        wall_span, mono_span = ask_again[0] - first[0], ask_again[1] - first[1]
        assert abs(wall_span - 0.25 * mono_span) < 0.1, (wall_span, mono_span)
        wall, mono, _, our_wall, _ = ask(0.0)
        assert abs(wall - our_wall) < 0.5, "+0 puts the drifting clock back to the true time"
    finally:
        child.kill()
        child.wait()
