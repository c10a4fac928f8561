"""wait_until: deadlines on an injected clock, when the condition first held, fatal errors; pace_until: sliced,
so a signal that lands in another thread is handled within a slice."""
import subprocess
import sys
import textwrap

import pytest

from chaosaitrapp.errors import ApiError, ConditionTimeout, ConfigError
from chaosaitrapp.waiting import PACE_SLICE_S, pace_until, require, wait_until


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def test_returns_when_condition_first_holds():
    clock = FakeClock()
    values = iter([1, 1, 0, 0])
    result = wait_until(lambda: next(values), lambda v: v == 0, timeout=10, interval=0.5,
                        clock=clock, wall=lambda: 5000.0 + clock.now, sleep=clock.sleep)
    assert result.held and result.polls == 3 and clock.sleeps == [0.5, 0.5]
    assert result.waited_s == pytest.approx(1.0) and result.held_at_wall == pytest.approx(5101.0)


def test_times_out_at_the_deadline_with_last_value():
    clock = FakeClock()
    result = wait_until(lambda: 1, lambda v: v == 0, timeout=2, interval=0.5, clock=clock, sleep=clock.sleep)
    assert not result.held and result.polls == 5 and sum(clock.sleeps) == pytest.approx(2.0)
    with pytest.raises(ConditionTimeout, match="expected 0, last value 1"):
        require(result, "0")


def test_transient_errors_are_observations_fatal_ones_are_raised():
    clock = FakeClock()
    calls = iter([ApiError("down"), ApiError("down"), 7])

    def observe():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(observe, lambda v: v == 7, timeout=5, interval=0.1, clock=clock, sleep=clock.sleep).held

    def unauthorized():
        raise ApiError("401", status=401, fatal=True)

    with pytest.raises(ApiError, match="401"):
        wait_until(unauthorized, bool, timeout=5, interval=0.1, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize("timeout", [-1, "soon", float("nan")])
def test_bad_durations_are_config_errors(timeout):
    with pytest.raises(ConfigError, match="timeout"):
        wait_until(lambda: 1, bool, timeout=timeout)


def test_wait_stable_needs_the_condition_for_the_whole_hold():
    from chaosaitrapp.waiting import wait_stable

    clock = FakeClock()
    # ready, a drop (the service noticing the fault late), then ready for good
    values = iter([True, True, False, True, True, True, True, True, True])
    result = wait_stable(lambda: next(values), bool, hold=1.0, timeout=10, interval=0.5,
                         clock=clock, wall=lambda: 1000 + clock.now, sleep=clock.sleep)
    assert result.held and result.polls == 6
    assert result.held_at_wall == pytest.approx(1000 + 101.5), "the stable stretch began after the drop"


def test_wait_stable_times_out_when_it_keeps_flapping():
    from chaosaitrapp.waiting import wait_stable

    clock = FakeClock()
    flip = {"v": False}

    def observe():
        flip["v"] = not flip["v"]
        return flip["v"]

    result = wait_stable(observe, bool, hold=1.0, timeout=3, interval=0.5, clock=clock, sleep=clock.sleep)
    assert not result.held


def test_fail_fast_cuts_later_waits_to_one_deadline_after_the_first_fault(tmp_path):
    """Once a drill has failed, every later wait ends by WAIT_READY_TIMEOUT + 30 s after its first fault
    (less a reserve for the restore and the evidence); before the failure, waits keep their own deadline."""
    import time

    from chaosaitrapp.evidence import recorder

    run = recorder.begin_run("ff", tmp_path)
    try:
        run.wait_ready_timeout = 60.0
        assert recorder.wait_budget(90.0, "x") == 90.0, "no failure yet: the wait keeps its deadline"
        recorder.record_event("fault", "lab:redis", "stop")
        recorder.record_failure("ready-again failed")
        promise = run.first_fault_mono + 60.0 + recorder.FAIL_FAST_GRACE_S - recorder.FAIL_FAST_RESERVE_S
        assert run.fail_deadline == pytest.approx(promise)
        left = recorder.wait_budget(90.0, "/ready to answer 200")
        assert 0 < left <= promise - time.monotonic() + 0.01 and left < 90.0
        assert recorder.wait_budget(1.0) == 1.0, "a wait shorter than what is left keeps its own deadline"
        assert any("fail fast" in n for n in run.notes) and any("/ready to answer 200" in n for n in run.notes)
        run.fail_deadline = time.monotonic() - 1
        assert recorder.wait_budget(30.0) == 0.0, "past the deadline a wait polls once"
    finally:
        recorder.end_run()


def test_a_run_that_injected_nothing_says_so(tmp_path):
    from chaosaitrapp.evidence import recorder

    run = recorder.begin_run("inj", tmp_path)
    try:
        assert not run.injected
        recorder.record_event("phase", None, "method")
        assert not run.injected, "a phase is not a fault"
        recorder.record_event("fault", "orders", "burst")
        assert run.injected and run.faults == 1
    finally:
        recorder.end_run()


def test_pace_until_sleeps_in_slices_to_the_moment():
    clock = FakeClock()
    pace_until(100.35, clock=clock, sleep=clock.sleep)
    assert clock.sleeps == [0.1, 0.1, 0.1, 0.05] and clock.now == pytest.approx(100.35)
    pace_until(50.0, clock=clock, sleep=clock.sleep)
    assert len(clock.sleeps) == 4, "a moment already past: no sleep"


#: A process whose main thread paces 30 s while a worker thread takes the SIGTERM (as the kernel may choose
#: for a signal sent to the process group of `chaos run`): prints how long the handler took to run.
SIGNAL_IN_A_WORKER = textwrap.dedent("""
    import signal, threading, time
    from chaosaitrapp.waiting import pace_until

    class Stop(Exception):
        pass

    def handler(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, handler)
    ready, done = threading.Event(), threading.Event()
    worker = threading.Thread(target=lambda: (ready.set(), done.wait(60)), daemon=True)
    worker.start()
    ready.wait(10)
    began = time.monotonic()
    threading.Timer(0.3, lambda: signal.pthread_kill(worker.ident, signal.SIGTERM)).start()
    try:
        pace_until(began + 30)
        print("paced", round(time.monotonic() - began, 3))
    except Stop:
        print("stopped", round(time.monotonic() - began, 3))
""")


def test_a_signal_taken_by_another_thread_stops_the_pacing_within_a_slice():
    out = subprocess.run([sys.executable, "-c", SIGNAL_IN_A_WORKER], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    word, seconds = out.stdout.split()
    assert word == "stopped", out.stdout
    assert float(seconds) < 0.3 + 10 * PACE_SLICE_S, f"the handler ran {seconds} s after the pacing began"
