"""A stop interrupted half-way (the signal sent, the exit not yet awaited) must not fool a later
start: found by the torture trial ``leader_lock-01-SIGTERM-fault``, where the rollback's start took
a Redis still shutting down (and still answering PING) for running, cleared the ledger, and Redis
then exited for good. ``ProcessDriver`` now leaves ``<pidfile>.stopping`` until the pid is gone,
and ``start`` finishes such a stop before launching.
"""
from __future__ import annotations

import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest
from drills.kit import free_ports

from chaosaitrapp.targets.process import ProcessDriver, pid_alive
from chaosaitrapp.waiting import wait_until

pytestmark = pytest.mark.torture

# A TCP service that shuts down slowly: after SIGTERM it keeps accepting for 3 s, then exits.
SLOW_SERVICE = textwrap.dedent("""
    import signal, socket, sys, threading, time
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", int(sys.argv[1])))
    sock.listen(16)
    def later(*_):
        threading.Timer(3.0, lambda: __import__("os")._exit(0)).start()
    signal.signal(signal.SIGTERM, later)
    while True:
        conn, _ = sock.accept()
        conn.close()
""")


@pytest.fixture
def slow_service(tmp_path: Path):
    script = tmp_path / "slow_service.py"
    script.write_text(SLOW_SERVICE)
    (port,) = free_ports(1)
    driver = ProcessDriver(str(tmp_path / "run" / "slow.pid"), argv=[sys.executable, str(script), str(port)],
                           log=str(tmp_path / "slow.log"), port=port)
    driver.start(10)
    try:
        yield driver
    finally:
        pid = driver.pid()
        if pid is not None and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)  # our own service, by pid
            wait_until(lambda: pid_alive(pid), lambda alive: not alive, timeout=5, interval=0.02)


def test_start_finishes_a_stop_that_was_interrupted(slow_service: ProcessDriver):
    old = slow_service.pid()
    # what stop() has done when Ctrl-C/SIGTERM/SIGKILL hits it while it waits for the exit
    slow_service.stopping_marker.write_text(f"{old}\n")
    os.kill(old, signal.SIGTERM)
    assert slow_service.answers(), "the service must still answer while it shuts down (test premise)"

    slow_service.start(10)

    new = slow_service.pid()
    assert new != old, "start took a process that was shutting down for running"
    assert not pid_alive(old)
    assert slow_service.answers()
    assert not slow_service.stopping_marker.exists()


def test_stale_stop_marker_does_not_bounce_a_running_service(slow_service: ProcessDriver):
    old = slow_service.pid()
    slow_service.stopping_marker.write_text("999999999\n")  # a pid that cannot exist
    slow_service.start(10)
    assert slow_service.pid() == old and pid_alive(old)
    assert not slow_service.stopping_marker.exists()


def test_completed_stop_leaves_no_marker(slow_service: ProcessDriver):
    old = slow_service.pid()
    slow_service.stop(10)
    assert not pid_alive(old)
    assert not slow_service.stopping_marker.exists()
