"""The stress faults against a container as the real deployment runs the trader: ``TARGET_PROCESS=docker:NAME``
finds the container's main process, its cgroup (the one Docker made, with the container's CPU and
memory limits), and the stressor joins it, competing within those limits; the rollback ends it."""
from __future__ import annotations

import pytest

from chaosaitrapp import procs
from chaosaitrapp.errors import TargetError
from chaosaitrapp.stress import actions
from chaosaitrapp.stress.probes import target_resources
from chaosaitrapp.targets.cgroups import cgroup_of
from chaosaitrapp.waiting import wait_until


@pytest.fixture
def limited_container(make_container):
    made = make_container("redis", start=False)
    made.container.remove(force=True)
    made.container = made.container.client.containers.run(
        made.container.image, command=["redis-server", "--bind", "127.0.0.1", "--port", str(made.port)],
        name=made.container.name, network_mode="host", detach=True, nano_cpus=500_000_000, mem_limit="256m",
        labels=made.container.labels)
    yield made
    actions.end_stress()


def test_the_stressor_joins_a_containers_cgroup_within_its_limits(limited_container):
    configuration = {"target_process": f"docker:{limited_container.name}"}
    seen = target_resources(configuration)
    assert seen["cpu_limit"] == pytest.approx(0.5) and seen["memory_limit_mb"] == 256.0, seen
    result = actions.stress_cpu(seconds=30, workers=1, configuration=configuration)
    assert result["where"].startswith("the target's cgroup"), result
    joined = wait_until(lambda: cgroup_of(result["pid"]).same_as(cgroup_of(seen["pid"])), bool, timeout=5,
                        interval=0.05, what="the stressor in the container's cgroup")
    assert joined.held
    done = actions.end_stress()
    assert done["ended"][0]["was_running"] and not procs.alive(result["pid"])


def test_a_container_that_is_not_running_is_named(limited_container):
    limited_container.container.stop(timeout=1)
    with pytest.raises(TargetError, match="not running"):
        actions.stress_cpu(seconds=2, configuration={"target_process": f"docker:{limited_container.name}"})
