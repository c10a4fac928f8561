"""Fixtures for the fault ledger, cleanup and watchdog tests."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
from safety_helpers import FakeDriver, SpawnedPids, kill_pids, redis_driver

from chaosaitrapp.registry import register_driver_factory, unregister_driver_factory
from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.targets.process import ProcessDriver


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    """An empty ledger in a directory of this test's own."""
    return Ledger(tmp_path / "state" / "ledger.json")


@pytest.fixture
def fake_factory() -> Iterator[None]:
    """Register the FakeDriver for undo recipes of kind ``fake`` (the seam), for one test."""
    register_driver_factory("fake", FakeDriver)
    yield
    unregister_driver_factory("fake")


@pytest.fixture
def redis_proc(tmp_path: Path) -> Iterator[ProcessDriver]:
    """A real redis-server on a free loopback port, started by its ProcessDriver and answering;
    stopped at teardown by the pid in its pidfile (whoever restarted it meanwhile)."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: these tests need a real Redis")
    driver = redis_driver(tmp_path)
    driver.start(timeout=30)
    yield driver
    driver.stop(timeout=10)


@pytest.fixture
def spawned_pids() -> Iterator[SpawnedPids]:
    """Pids a test started (dummy runs, watchdogs): any still running the noted process at teardown are killed."""
    pids = SpawnedPids()
    yield pids
    kill_pids(pids)
