"""Test doubles and helpers for the safety tests (not collected: no ``test_`` prefix).

``FakeDriver`` is the only double, and it lives at the seam: a factory registered for the
``"fake"`` undo kind (:func:`chaosaitrapp.registry.register_driver_factory`). Its
``start`` appends a line to the file named in its recipe, so tests count starts, and fails
with a TargetError naming its target when the recipe says ``"fail": true``.
"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Dict, Optional

from chaosaitrapp import procs
from chaosaitrapp.errors import TargetError
from chaosaitrapp.targets.process import ProcessDriver
from chaosaitrapp.testing.lab import free_port
from chaosaitrapp.testing.waits import wait_for


class FakeDriver:
    """A dependency that only records being started (``undo = {"driver": "fake", ...}``)."""

    def __init__(self, undo: dict) -> None:
        self.name = undo["name"]
        self.starts = Path(undo["starts"])
        self.fail = bool(undo.get("fail", False))
        self.work = float(undo.get("work", 0.0))

    def describe(self) -> str:
        return f"fake:{self.name}"

    def is_running(self) -> bool:
        return self.starts.exists()

    def answers(self) -> bool:
        return self.is_running()

    def stop(self, timeout: float = 30.0) -> None:
        self.starts.unlink(missing_ok=True)

    def start(self, timeout: float = 60.0) -> None:
        if self.fail:
            raise TargetError(f"{self.describe()}: refused to start (fake failure)")
        if self.work:
            time.sleep(self.work)  # simulated start-up work, so concurrent undoers overlap
        with open(self.starts, "a") as handle:
            handle.write(f"{os.getpid()}\n")

    def undo(self) -> dict:
        return {"driver": "fake", "name": self.name, "starts": str(self.starts), "fail": self.fail}


def fake_undo(tmp: Path, name: str, fail: bool = False, work: float = 0.0) -> dict:
    """A recipe for a FakeDriver whose start log is ``tmp/<name>.starts``."""
    return {"driver": "fake", "name": name, "starts": str(tmp / f"{name}.starts"), "fail": fail, "work": work}


def start_count(undo: dict) -> int:
    """How many times the FakeDriver of ``undo`` was started."""
    path = Path(undo["starts"])
    return len(path.read_text().splitlines()) if path.exists() else 0


def redis_client(port: int) -> "redis.Redis":  # noqa: F821 (imported inside)
    """A client for 127.0.0.1:``port`` that fails at once when Redis is down (redis-py >= 6
    retries a refused connection with backoff for seconds by default)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2, socket_connect_timeout=2,
                       retry=Retry(NoBackoff(), 0))


def redis_pings(port: int) -> bool:
    """True when Redis on 127.0.0.1:``port`` answers PING right now (no retries)."""
    import redis

    client = redis_client(port)
    try:
        return bool(client.ping())
    except redis.exceptions.RedisError:
        return False
    finally:
        client.close()


def redis_driver(tmp: Path) -> ProcessDriver:
    """A ProcessDriver for a throwaway redis-server on a free loopback port in ``tmp``."""
    port = free_port()
    data = tmp / f"redis-{port}"
    data.mkdir(parents=True, exist_ok=True)
    argv = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(data), "--daemonize", "no",
    ]
    return ProcessDriver(
        str(data / "redis.pid"), argv=argv, log=str(data / "redis.log"), check="redis", host="127.0.0.1", port=port,
    )


class SpawnedPids(list):
    """Pids a test started, each with its start time noted when it is appended (while it runs): a pid that
    exited and was given to another process since (this machine recycles pids within minutes) is left alone."""

    def __init__(self) -> None:
        super().__init__()
        self.started: Dict[int, Optional[float]] = {}

    def append(self, pid: int) -> None:
        """Note ``pid`` and when its process started."""
        self.started[pid] = procs.start_time(pid)
        super().append(pid)


def kill_pids(pids: SpawnedPids) -> None:
    """SIGKILL each pid of ``pids`` still running the process that was noted, and wait until gone."""
    ours = [pid for pid in pids if procs.same_process(pid, pids.started.get(pid))]
    for pid in ours:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    for pid in ours:
        wait_for(lambda: not procs.same_process(pid, pids.started.get(pid)), 10, f"pid {pid} to exit")


def read_log(path: Optional[Path]) -> str:
    """The text of a log file, or '' when absent."""
    return path.read_text() if path and path.exists() else ""
