"""Fixtures for the tests against the real Docker engine (``pytest -m docker``).

The session fixture ``docker_engine`` runs ``scripts/docker/start-engine.sh`` and
``scripts/docker/build-images.sh``; when either fails the tests FAIL with the script's output
(never skip). Every container a test creates carries the label ``org.chaosaitrapp.test=<session>``
(or a per-test compose project) and is removed, with its volumes, at the end.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from chaosaitrapp.testing.lab import free_port  # noqa: F401 (used by the Docker tests)

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "docker"
REDIS_IMAGE = os.environ.get("CHAOSAITRAPP_REDIS_IMAGE", "chaosaitrapp/redis:7-local")
POSTGRES_IMAGE = os.environ.get("CHAOSAITRAPP_POSTGRES_IMAGE", "chaosaitrapp/postgres:15-local")
SESSION = uuid.uuid4().hex[:8]
TEST_LABEL = "org.chaosaitrapp.test"
PG_USER, PG_DB = "trader", "aitrapp"

# Durations measured by the tests, printed in the terminal summary (never asserted).
TIMINGS: Dict[str, List[float]] = {}
SCRIPT_OUTPUT: List[str] = []


def record(what: str, seconds: float) -> None:
    """Remember a measured duration for the summary."""
    TIMINGS.setdefault(what, []).append(seconds)


def unique(prefix: str) -> str:
    """A container/service/project name no other test or lab uses."""
    return f"chaostest-{SESSION}-{prefix}-{uuid.uuid4().hex[:6]}"


def _run_script(name: str, limit: float) -> str:
    started = time.monotonic()
    try:
        proc = subprocess.run([str(SCRIPTS / name)], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scripts/docker/{name} did not finish within {limit:.0f}s: {exc.stdout or ''}{exc.stderr or ''}",
                    pytrace=False)
    if proc.returncode != 0:
        pytest.fail(f"scripts/docker/{name} failed (exit {proc.returncode}), so the Docker tests cannot run:\n"
                    f"{proc.stdout}{proc.stderr}", pytrace=False)
    record(f"script {name} (wall)", time.monotonic() - started)
    SCRIPT_OUTPUT.extend(line for line in proc.stdout.splitlines() if line.strip())
    return proc.stdout


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Any]:
    """A Docker client on a running engine with the local images built; cleans up at the end."""
    import docker

    _run_script("start-engine.sh", 120)
    _run_script("build-images.sh", 300)
    try:
        client = docker.from_env(version="auto", timeout=120)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the engine started but docker.from_env() fails: {exc}", pytrace=False)
    yield client
    for container in client.containers.list(all=True, filters={"label": f"{TEST_LABEL}={SESSION}"}):
        container.remove(force=True, v=True)
    for volume in client.volumes.list(filters={"label": f"{TEST_LABEL}={SESSION}"}):
        volume.remove(force=True)
    client.close()


@pytest.fixture
def timings() -> Callable[[str, float], None]:
    """``timings(what, seconds)``: record a measured duration for the terminal summary."""
    return record


@pytest.fixture
def port_factory() -> Callable[[], int]:
    """``port_factory()``: a TCP port free on 127.0.0.1 right now."""
    return free_port


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """``unique_name(prefix)``: a container/service/project name no other test or lab uses."""
    return unique


class Made:
    """A throwaway container a test made: the container, its port and (Postgres) the user,
    database and password."""

    def __init__(self, container: Any, port: int, password: Optional[str]) -> None:
        self.container = container
        self.port = port
        self.password = password
        self.user = PG_USER
        self.database = PG_DB

    @property
    def name(self) -> str:
        return self.container.name


@pytest.fixture
def make_container(docker_engine: Any) -> Iterator[Callable[..., Made]]:
    """Factory: ``make_container(kind, name=None, labels=None, start=True, command=None)``.

    ``kind`` is ``redis`` or ``postgres``; the container uses host networking on a free
    loopback port, Redis with ``--save "3600 1"``, Postgres with user trader / db aitrapp
    and a random password. Removed (with its volumes) when the test ends.
    """
    made: List[Any] = []

    def make(kind: str, name: Optional[str] = None, labels: Optional[Dict[str, str]] = None,
             start: bool = True, command: Optional[List[str]] = None) -> Made:
        port = free_port()
        password = None
        env: Dict[str, str] = {}
        if kind == "redis":
            image = REDIS_IMAGE
            command = command or ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "3600 1"]
        else:
            image = POSTGRES_IMAGE
            password = secrets.token_hex(8)
            env = {"POSTGRES_USER": PG_USER, "POSTGRES_PASSWORD": password, "POSTGRES_DB": PG_DB}
            command = command or ["postgres", "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"]
        container = docker_engine.containers.create(
            image, command=command, name=name or unique(kind), environment=env, network_mode="host",
            labels={TEST_LABEL: SESSION, **(labels or {})}, detach=True,
        )
        made.append(container)
        if start:
            container.start()
        return Made(container, port, password)

    yield make
    for container in made:
        try:
            container.remove(force=True, v=True)
        except Exception:  # noqa: BLE001 - already gone
            pass


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the measured durations (engine start, image build, container stop/start)."""
    if not TIMINGS:
        return
    terminalreporter.section("docker timings (measured, not asserted)")
    for line in SCRIPT_OUTPUT:
        terminalreporter.write_line(line)
    for what, values in sorted(TIMINGS.items()):
        shown = ", ".join(f"{v:.3f}" for v in values)
        terminalreporter.write_line(f"{what}: {shown} s")
