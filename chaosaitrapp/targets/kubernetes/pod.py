"""``k8s:NAMESPACE/pod/NAME`` as the target's own process, for the stress drills: which container runs (a restart
or an OOM kill shows as a new identity), and what it uses.

- :func:`container_state`: the pod's first container as the kubelet reports it in the pod's status (its
  ``containerID``, ``restartCount``, when it started, whether its last end was ``OOMKilled``) and its limits;
- :func:`pod_usage`: its CPU and memory from the resource metrics API (``metrics.k8s.io/v1beta1`` PodMetrics,
  served by metrics-server: each figure is an average over the metrics' ``window``, renewed at metrics-server's
  resolution, 15 s by default). The memory is the container's working set, the figure the kubelet evicts and the
  kernel OOM-kills by. A cluster without metrics-server answers 404: the figures are then None, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional

from chaosaitrapp.errors import TargetError
from chaosaitrapp.targets.kubernetes.api import REQUEST_TIMEOUT, api_call, api_client, api_error, core_api
from chaosaitrapp.targets.kubernetes.freeze import parse_pod

METRICS_GROUP, METRICS_VERSION = "metrics.k8s.io", "v1beta1"


@dataclass(frozen=True)
class ContainerState:
    """A pod's first container now: ``identity`` (``POD/CONTAINER#RESTARTS``, None when it is not running),
    ``started`` (Unix time), ``restarts``, ``oom_killed`` (its current or last end was ``OOMKilled``), its limits
    (``cpu_limit`` in CPUs, ``memory_limit`` in bytes; None when it has none)."""

    pod: str
    container: str
    identity: Optional[str]
    started: Optional[float]
    restarts: int
    oom_killed: bool
    cpu_limit: Optional[float]
    memory_limit: Optional[int]


def is_pod(spec: Optional[str]) -> bool:
    """True for a ``k8s:`` target string (a pod: :func:`pod_ref` checks its form)."""
    return str(spec or "").startswith("k8s:")


def pod_ref(target: str) -> tuple:
    """``(namespace, pod)`` of ``k8s:NAMESPACE/pod/NAME``; ConfigError naming the form otherwise."""
    return parse_pod(str(target).partition(":")[2])


def _quantity(text: Any) -> Optional[float]:
    from kubernetes.utils.quantity import parse_quantity  # noqa: PLC0415 - the [kubernetes] extra is optional
    if text in (None, ""):
        return None
    try:
        return float(parse_quantity(str(text)))
    except (ValueError, TypeError):
        raise TargetError(f"the Kubernetes API gave a quantity that is not one: {text!r}") from None


def _unix(value: Any) -> Optional[float]:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return None


def container_state(namespace: str, pod: str) -> ContainerState:
    """The pod's first container now (class docstring); TargetNotFound when there is no such pod, TargetError when
    the API fails."""
    target = f"k8s:{namespace}/pod/{pod}"
    found = api_call(f"reading {target}", target, lambda: core_api().read_namespaced_pod(
        pod, namespace, _request_timeout=REQUEST_TIMEOUT), missing="no such pod")
    spec = found.spec.containers[0]
    limits = (spec.resources.limits if spec.resources is not None else None) or {}
    memory = _quantity(limits.get("memory"))
    status = next((s for s in (found.status.container_statuses or []) if s.name == spec.name), None) \
        if found.status is not None else None
    restarts = int(status.restart_count or 0) if status is not None else 0
    running = status.state.running if status is not None and status.state is not None else None
    ends = [getattr(status.state, "terminated", None), getattr(status.last_state, "terminated", None)] \
        if status is not None else []
    return ContainerState(
        pod=pod, container=str(spec.name),
        identity=f"{pod}/{spec.name}#{restarts}" if running is not None else None,
        started=_unix(running.started_at) if running is not None else None, restarts=restarts,
        oom_killed=any(end is not None and end.reason == "OOMKilled" for end in ends),
        cpu_limit=_quantity(limits.get("cpu")), memory_limit=int(memory) if memory is not None else None)


def pod_usage(namespace: str, pod: str, container: str) -> Dict[str, Optional[float]]:
    """``{"cpu_pct", "memory_mb"}`` of ``container`` in ``pod`` from the resource metrics API (module docstring):
    ``cpu_pct`` in percent of one CPU, ``memory_mb`` its working set in MiB; both None when the cluster serves no
    metrics for it (no metrics-server, or not scraped yet). TargetError when the API fails otherwise."""
    from kubernetes import client  # noqa: PLC0415 - the [kubernetes] extra is optional
    none: Dict[str, Optional[float]] = {"cpu_pct": None, "memory_mb": None}
    try:
        found = client.CustomObjectsApi(api_client()).get_namespaced_custom_object(
            METRICS_GROUP, METRICS_VERSION, namespace, "pods", pod, _request_timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - the client's ApiException and its transport's errors
        if getattr(exc, "status", None) == 404:
            return none
        raise api_error(f"reading the metrics of k8s:{namespace}/pod/{pod}", exc) from None
    usage = next((c.get("usage") or {} for c in found.get("containers") or [] if c.get("name") == container), None)
    if usage is None:
        return none
    cpu, memory = _quantity(usage.get("cpu")), _quantity(usage.get("memory"))
    return {"cpu_pct": round(cpu * 100, 2) if cpu is not None else None,
            "memory_mb": round(memory / 2**20, 2) if memory is not None else None}
