"""Fixtures for the tests against the real Docker engine (``pytest -m docker``): the engine itself is
:mod:`dockerkit`'s ``docker_engine``; throwaway Redis and Postgres containers, measured durations."""
from __future__ import annotations

import secrets
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from dockerkit import (
    PG_DB,
    PG_USER,
    POSTGRES_IMAGE,
    REDIS_IMAGE,
    SCRIPT_OUTPUT,
    SESSION,
    TEST_LABEL,
    TIMINGS,
    record,
    unique,
)

from chaosaitrapp.testing.lab import free_port


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
