"""Shared fixtures for the whole test suite.

- ``free_port`` / ``free_ports``: loopback ports free right now (plain helpers from
  :mod:`chaosaitrapp.testing.lab`, re-exported here; ``free_port`` is also a fixture). Import them from
  ``chaosaitrapp.testing.lab`` in test modules: ``from conftest import`` is ambiguous with several conftests.
- ``lab_factory`` (function scope): ``start(profile="fast", defects=(), api_key=None, runtime="process",
  mode="PAPER", images=None) -> LabState`` brings a lab up in a fresh temporary directory on free ports; every lab
  it started is brought down (verified by pid) and its directory removed at the end of the test.
- ``lab`` (session scope): one plain healthy ``fast`` lab shared by read-mostly tests (a test
  that changes it must put it back).
- ``redis_server`` (function scope): a throwaway ``redis-server`` on a free port, ``(host, port)``.

- ``clean_environment`` (autouse): every test starts without the drill settings, secrets and lab
  variables a developer's shell may carry (``AITRAPP_ALLOWED_HOSTS=*``, ``API``, ``API_KEY``...), with
  its state and reports in its own temporary directory and :func:`lab_for`'s answers forgotten.

Apart from that fixture nothing here sets process-wide state: every lab is described by its own
``LabConfig``. A missing program makes these fixtures fail loudly, never skip.
"""
from __future__ import annotations

import sys

# tests/ itself on the path, so every test folder can `from drills.kit import ...`
sys.path.insert(0, __import__("os").path.dirname(__file__))

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import pytest
from dockerkit import docker_engine  # noqa: F401 - the session's Docker engine, a fixture for every folder

from chaosaitrapp.config import SECRET_ENV
from chaosaitrapp.lab.runtime import lab_down
from chaosaitrapp.registry import settings as all_settings
from chaosaitrapp.targets.answers import tcp_answers
from chaosaitrapp.targets.labstate import LabState, forget_lab_decisions
from chaosaitrapp.testing.lab import free_port, free_ports, make_lab_dir, start_lab
from chaosaitrapp.testing.waits import wait_for

__all__ = ["free_port", "free_ports", "make_lab_dir", "start_lab"]

#: Variables that change what a drill or the extension does; a test sets the ones it needs itself.
DRILL_ENV = {s.env for s in all_settings()} | set(SECRET_ENV) | {
    "NONINTERACTIVE", "AITRAPP_CHECK_LIMITS", "AITRAPP_LAB_DIR", "AITRAPP_LAB_DEFECTS", "AITRAPP_LAB_PROFILE",
    "AITRAPP_CHAOS_DRIVER_FACTORIES", "BROKER_TOKEN", "API_SECRET_KEY"}


#: Tests that need the host's fixed resources (the default ports, the Docker containers named `redis`
#: and `postgres`): never two at once.
HOST_BOUND = ("docker/", "drills/test_readme_install.py", "drills/test_ci_workflow.py")

#: Test folders of the full tier only: they run real labs, drills, Docker or signal trials.
SLOW_FOLDERS = {"lab": "lab", "broker": "lab", "network": "lab", "drills": "drill", "deployed": "drill",
                "kubernetes_drills": "drill", "compat": "drill", "docker": "docker", "torture": "torture"}


@pytest.hookimpl(tryfirst=True)  # before xdist turns xdist_group marks into its scheduling groups
def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Mark each test by its folder (``lab``, ``drill``, ``docker``, ``torture``); ``make test-fast``
    runs the rest: unit and in-process tests."""
    root = Path(__file__).resolve().parent
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(root).parts
        if parts and parts[0] in SLOW_FOLDERS:
            item.add_marker(getattr(pytest.mark, SLOW_FOLDERS[parts[0]]))
        # pytest-xdist (`-n N --dist loadgroup`): a module's tests stay on one worker (its fixtures are
        # made once); the tests bound to the host's fixed resources (the default ports, the Docker
        # containers named `redis` and `postgres`) all share one worker, one after the other
        relative = "/".join(parts)
        item.add_marker(pytest.mark.xdist_group("host" if relative.startswith(HOST_BOUND) else relative))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No inherited drill settings or secrets; state and reports under the test's own directory."""
    for name in list(os.environ):
        if name in DRILL_ENV or name.startswith(("AITRAPP_", "KITE_", "BROKER_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AITRAPP_CHAOS_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("AITRAPP_REPORTS_DIR", str(tmp_path / "reports"))
    forget_lab_decisions()
    yield
    forget_lab_decisions()


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
    try:
        wait_for(lambda: proc.poll() is not None or tcp_answers("127.0.0.1", port, 0.2), 10,
                 f"redis-server to listen on {port}", interval=0.02)
        assert proc.poll() is None, "redis-server exited at start"
    except AssertionError:
        proc.kill()
        raise
    try:
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

