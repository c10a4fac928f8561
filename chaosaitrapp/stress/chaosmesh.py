"""Stress on Kubernetes: a Chaos Mesh StressChaos in the first container of the trader's pod (``TARGET_PROCESS=
k8s:NAMESPACE/pod/NAME``, in ``K8S_NAMESPACE``), so the stressors compete inside the container's own CPU and memory
limits, as the ``target`` scope does on a host.

The resource lasts the stress's ``seconds`` (Chaos Mesh ends it then, whatever else happens) and carries the run's
label (:mod:`chaosaitrapp.targets.kubernetes.chaosmesh`); the ledger holds its
:class:`~chaosaitrapp.targets.kubernetes.chaosmesh.ChaosMeshDriver` recipe (lease: ``seconds`` plus margins), so
the rollback, the watchdog and cleanup delete it by the run's label. The stress is over once the resource is gone
or Chaos Mesh reports it recovered (``AllRecovered`` true, at its ``duration``).

Bounds on a pod: at most :data:`MAX_WORKERS` workers; a memory stress needs a memory limit on the container (without
one it presses the node, not the pod) and may hold at most that limit over all its workers. The ``host`` scope is
refused: a StressChaos always runs in the container.
"""
from __future__ import annotations

import uuid
from typing import Any, Dict, Mapping, Optional

from chaoslib.types import Configuration

from chaosaitrapp.errors import ConfigError, TargetError, TargetNotFound
from chaosaitrapp.evidence.recorder import current_run
from chaosaitrapp.safety.faults import restore_outstanding
from chaosaitrapp.targets.kubernetes.chaosmesh import ChaosMeshDriver, create, resource, stress_chaos_spec
from chaosaitrapp.targets.kubernetes.guard import check_namespace
from chaosaitrapp.targets.kubernetes.pod import ContainerState, container_state, pod_ref

#: The most workers a stress of a pod may run (the drill's machine's CPUs say nothing of the pod's node).
MAX_WORKERS = 16


class StressChaosDriver:
    """One StressChaos of a pod (module docstring), with the stress driver's protocol: :meth:`launch` (nothing to
    launch), :meth:`go` makes the resource and waits until Chaos Mesh reports it injected, :meth:`is_running` is
    True once the stress is over, :meth:`start` deletes it (and every other of the run's)."""

    def __init__(self, namespace: str, pod: str, stressors: Mapping[str, Any], seconds: float, lease_s: float,
                 label: str = "") -> None:
        self.namespace, self.pod, self.stressors = namespace, pod, {k: dict(v) for k, v in stressors.items()}
        self.seconds, self.lease_s, self.label = float(seconds), float(lease_s), label
        run = current_run()
        self.run = str(getattr(run, "run_id", "") or uuid.uuid4().hex[:12])
        self.resource = ChaosMeshDriver(namespace, "stresschaos", f"aitrapp-stress-{uuid.uuid4().hex[:8]}", self.run)
        self.pid: Optional[int] = None

    def describe(self) -> str:
        """``stress:k8s:NAMESPACE/stresschaos/NAME``."""
        return "stress:" + self.resource.describe()

    def launch(self) -> None:
        """Nothing: Chaos Mesh starts the stressors in the pod once the resource is made (:meth:`go`)."""

    def go(self) -> None:
        """Make the StressChaos, lasting the stress's seconds, and wait until Chaos Mesh reports it injected
        (TargetError otherwise: :meth:`ChaosMeshDriver.wait_injected`)."""
        create(resource("stresschaos", self.resource.name, self.namespace, self.run,
                        stress_chaos_spec(self.namespace, self.pod, self.stressors), self.seconds, self.lease_s))
        self.resource.wait_injected(self.lease_s)

    def exited(self) -> None:
        """None: a stressor in a pod has no exit code the drill can read."""

    def is_running(self) -> bool:
        """True once the stress is over: the resource is gone, or Chaos Mesh reports it recovered. False while it
        stresses, and when the API cannot say (the rollback then deletes it)."""
        try:
            return self.resource.conditions().get("AllRecovered") == "True"
        except TargetNotFound:
            return True
        except TargetError:
            return False

    def answers(self) -> bool:
        """The same as :meth:`is_running`."""
        return self.is_running()

    def stop(self, timeout: float = 10.0) -> None:
        """Start stressing (:meth:`go`)."""
        self.go()

    def start(self, timeout: float = 10.0) -> None:
        """Delete the resource (and every other StressChaos of the run) and wait until it is gone."""
        self.resource.start(timeout)

    def undo(self) -> Dict[str, Any]:
        """The resource's recipe: whoever undoes it deletes it."""
        return self.resource.undo()


def pod_of(spec: str, configuration: Configuration) -> ContainerState:
    """The pod ``spec`` names, past the namespace guard (ConfigError before any call), as the API reports it now
    (TargetNotFound when there is no such pod)."""
    namespace, pod = pod_ref(spec)
    check_namespace(namespace, spec, configuration)
    return container_state(namespace, pod)


def check_pod_memory(spec: str, state: ContainerState, size: int, workers: int) -> None:
    """ConfigError unless ``workers`` memory workers of ``size`` bytes each fit within the memory limit of the pod's
    container (module docstring: a container without one is refused)."""
    if state.memory_limit is None:
        raise ConfigError(f"{spec}: its container {state.container} has no memory limit: a memory stress there "
                          "presses the node, not the pod (give the container resources.limits.memory)", key="vm_bytes")
    if size * workers > state.memory_limit:
        raise ConfigError(f"vm_bytes x {workers} worker(s) = {size * workers / 2**20:.0f} MiB is more than the memory "
                          f"limit of {spec}'s container ({state.memory_limit / 2**20:.0f} MiB)", key="vm_bytes")


def stress_chaos_driver(spec: str, stressors: Mapping[str, Any], seconds: float, lease_s: float, scope: str,
                        configuration: Configuration, label: str) -> StressChaosDriver:
    """The StressChaos of the pod ``spec`` names (module docstring for the bounds); ConfigError for the ``host``
    scope, a namespace not allowed, a memory stress without or beyond the container's memory limit."""
    if scope == "host":
        raise ConfigError(f"scope host: a stress of {spec} runs in its container (Chaos Mesh's StressChaos); use "
                          "scope target or auto", key="scope")
    state = pod_of(spec, configuration)
    memory = stressors.get("memory")
    if memory is not None:
        check_pod_memory(spec, state, int(memory["bytes"]), int(memory["workers"]))
    chaos = {k: {n: v for n, v in values.items() if n != "bytes"} for k, values in stressors.items()}
    namespace, pod = pod_ref(spec)
    return StressChaosDriver(namespace, pod, chaos, seconds, lease_s, label)


def end_stress_chaos(timeout: float = 10.0) -> int:
    """Delete every StressChaos the ledger still holds (a run that died before its rollback); how many entries
    were cleared."""
    return restore_outstanding(ChaosMeshDriver, timeout, where=lambda undo: undo.get("kind") == "stresschaos")
