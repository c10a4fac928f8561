"""Fixtures for the drills through Kubernetes (:mod:`kubernetes_drills.cluster`): a target deployed by hand, seen
through kmock's API and the played controller; torn down at the end of its test."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Any, Callable, Iterator, Tuple

import pytest
from deployed.target import Deployed, deployed_target

from kubernetes_drills.cluster import Cluster, cluster_for


@pytest.fixture
def cluster_factory(docker_engine: Any) -> Iterator[Callable[..., Tuple[Deployed, Cluster]]]:
    """``make(**kwargs)``: a target deployed by hand (:func:`deployed.target.deploy` with ``kwargs``) and the
    cluster in front of it; every one made is torn down when the test ends."""
    with ExitStack() as stack:
        def make(**kwargs: Any) -> Tuple[Deployed, Cluster]:
            deployed = stack.enter_context(deployed_target(docker_engine, **kwargs))
            return deployed, stack.enter_context(cluster_for(deployed))
        yield make
