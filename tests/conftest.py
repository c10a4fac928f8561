"""Shared fixtures for the whole test suite.

- ``free_port`` / ``free_ports``: loopback ports free right now (plain helpers from
  :mod:`chaosaitrapp.lab.testing`, re-exported here; ``free_port`` is also a fixture). Import them from
  ``chaosaitrapp.lab.testing`` in test modules: ``from conftest import`` is ambiguous with several conftests.
- ``lab_factory`` (function scope): ``start(profile="fast", defects=(), api_key=None, runtime="process",
  mode="PAPER", images=None) -> LabState`` brings a lab up in a fresh temporary directory on free ports; every lab
  it started is brought down (verified by pid) and its directory removed at the end of the test.
- ``lab`` (session scope): one plain healthy ``fast`` lab shared by read-mostly tests (a test
  that changes it must put it back).
- ``redis_server`` (function scope): a throwaway ``redis-server`` on a free port, ``(host, port)``.

Nothing here sets process-wide state (no ``os.environ`` changes): every lab is described by
its own ``LabConfig``. A missing program makes these fixtures fail loudly, never skip.
"""
from __future__ import annotations

import sys

# tests/ itself on the path, so every test folder can `from drills.kit import ...`
sys.path.insert(0, __import__("os").path.dirname(__file__))

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import pytest

from chaosaitrapp.lab.runtime import lab_down
from chaosaitrapp.lab.state import LabState
from chaosaitrapp.lab.testing import free_port, free_ports, make_lab_dir, start_lab

__all__ = ["free_port", "free_ports", "make_lab_dir", "start_lab"]


@pytest.fixture(name="free_port")
def free_port_fixture() -> Callable[[], int]:
    """The :func:`free_port` helper as a fixture."""
    return free_port


@pytest.fixture
def lab_factory() -> Iterator[Callable[..., LabState]]:
    """A function starting labs; all of them are torn down (and their directories removed) afterwards."""
    directories: List[Path] = []

    def start(profile: str = "fast", defects: Iterable[str] = (), api_key: Optional[str] = None,
              runtime: str = "process", mode: str = "PAPER", images: Optional[Dict[str, str]] = None) -> LabState:
        directory = make_lab_dir()
        directories.append(directory)
        return start_lab(directory, profile=profile, defects=defects, api_key=api_key, runtime=runtime, mode=mode,
                         images=images)

    yield start
    errors = []
    for directory in directories:
        try:
            lab_down(directory)
        except Exception as exc:  # keep tearing the others down
            errors.append(f"{directory}: {exc}")
        shutil.rmtree(directory, ignore_errors=True)
    if errors:
        raise AssertionError("lab teardown failed: " + "; ".join(errors))


@pytest.fixture(scope="session")
def lab() -> Iterator[LabState]:
    """One plain healthy ``fast`` lab for the session."""
    directory = make_lab_dir()
    try:
        state = start_lab(directory)
        yield state
    finally:
        try:
            lab_down(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[Tuple[str, int]]:
    """A private ``redis-server`` (no persistence) on a free loopback port; stopped after the test."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: the lock tests need a real Redis (apt-get install redis-server)"
    port = free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            assert proc.poll() is None, "redis-server exited at start"
            time.sleep(0.02)  # poll interval (deadline above)
    else:
        proc.kill()
        raise AssertionError(f"redis-server did not listen on {port} within 10s")
    try:
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
