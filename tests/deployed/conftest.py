"""Fixtures for the drills against a target deployed by hand (:mod:`deployed.target`): a running Docker
engine (its Postgres is a container) and the deployments, each torn down at the end of its module."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A Docker client on a running engine with the local images built (the tests fail, never skip, without)."""
    import docker

    for script, limit in (("start-engine.sh", 120), ("build-images.sh", 300)):
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "docker" / script)], capture_output=True, text=True,
                              timeout=limit)
        if proc.returncode != 0:
            pytest.fail(f"scripts/docker/{script} failed, so the deployed target cannot be built:\n"
                        f"{proc.stdout}{proc.stderr}", pytrace=False)
    client = docker.from_env(version="auto", timeout=120)
    yield client
    client.close()
