"""The Docker engine for the tests that need one (tests/docker, tests/deployed): the session fixture
``docker_engine`` runs ``scripts/docker/start-engine.sh`` and ``scripts/docker/build-images.sh``; when either
fails the tests FAIL with the script's output (never skip). Every container a test creates carries the label
``org.chaosaitrapp.test=<session>`` (or a per-test compose project) and is removed, with its volumes, at the
end. The local images' names, the session's label and the measured durations live here too."""
from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import docker
import pytest

ROOT = Path(__file__).resolve().parents[1]
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


