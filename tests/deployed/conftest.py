"""Fixtures for the drills against a target deployed by hand (:mod:`deployed.target`): a running Docker
engine (its Postgres is a container) and a factory of deployments, each torn down at the end of its test."""
from __future__ import annotations

import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Iterator

import docker
import pytest

from deployed.target import Deployed, deployed_target

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A Docker client on a running engine with the local images built (the tests fail, never skip, without)."""
    for script, limit in (("start-engine.sh", 120), ("build-images.sh", 300)):
        proc = subprocess.run(["bash", str(ROOT / "scripts" / "docker" / script)], capture_output=True, text=True,
                              timeout=limit)
        if proc.returncode != 0:
            pytest.fail(f"scripts/docker/{script} failed, so the deployed target cannot be built:\n"
                        f"{proc.stdout}{proc.stderr}", pytrace=False)
    client = docker.from_env(version="auto", timeout=120)
    yield client
    client.close()


@pytest.fixture
def deployed_factory(docker_client: Any) -> Iterator[Callable[..., Deployed]]:
    """``make(**kwargs)``: a target deployed by hand (:func:`deployed.target.deploy` with ``kwargs``) in a
    folder of its own; every one made is torn down when the test ends."""
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(deployed_target(docker_client, **kwargs))
