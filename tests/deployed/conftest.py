"""Fixtures for the drills against a target deployed by hand (:mod:`deployed.target`): a factory of
deployments, each torn down at the end of its test (its Postgres is a container: :mod:`dockerkit`'s engine)."""
from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from deployed.target import Deployed, deployed_target

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployed_factory(docker_engine: Any) -> Iterator[Callable[..., Deployed]]:
    """``make(**kwargs)``: a target deployed by hand (:func:`deployed.target.deploy` with ``kwargs``) in a
    folder of its own; every one made is torn down when the test ends."""
    with ExitStack() as stack:
        yield lambda **kwargs: stack.enter_context(deployed_target(docker_engine, **kwargs))
