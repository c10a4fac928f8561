"""Probes of the target's own process for the stress drills: who it is (a restart changes that), what it
uses, and the sampler's part that records it on the timeline (the CPU and RSS lanes of the report)."""
import time
from typing import Any, Callable, Dict, List, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.errors import ChaosAitrappError, TargetError, TargetNotFound
from chaosaitrapp.stress.chaosmesh import pod_of
from chaosaitrapp.stress.target import resources, target_process, target_spec
from chaosaitrapp.targets.cgroups import cgroup_of
from chaosaitrapp.targets.kubernetes.pod import is_pod, pod_ref, pod_usage

__all__ = ["target_resources"]


def target_resources(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Returns the target process now: ``{"pid", "started", "label", "rss_mb", "cpu_s", "cg_mem_mb", "oom_kills",
    "cgroup", "cpu_limit", "memory_limit_mb"}`` (its cgroup's figures None where the kernel does not say). For a pod
    (``k8s:NAMESPACE/pod/NAME``): ``pid`` is its container's identity (``POD/CONTAINER#RESTARTS``), ``rss_mb`` and
    ``cg_mem_mb`` its working set and ``cpu_pct`` its CPU from the resource metrics API (None without
    metrics-server), ``oom_kills`` 1 when its last end was an OOM kill. Raises ConfigError when no target process is
    known (``TARGET_PROCESS``), TargetNotFound when it is not running."""
    spec = target_spec(configuration)
    if is_pod(spec):
        found = _pod_reading(spec, configuration)
        if found["pid"] is None:
            raise TargetNotFound(f"{spec}: its container is not running ({found['cgroup']})", target=spec)
        return found
    target = target_process(configuration, spec)
    try:
        group = cgroup_of(target.pid)
    except TargetError:
        group = None
    limit = group.memory_limit() if group is not None else None
    return {"pid": target.pid, "started": target.started, "label": target.label,
            **resources(target.pid, group), "oom_kills": group.oom_kills() if group is not None else None,
            "cgroup": group.describe() if group is not None else None,
            "cpu_limit": group.cpu_limit() if group is not None else None,
            "memory_limit_mb": round(limit / 2**20, 1) if limit else None}


#: How long a pod's resource-metrics reading is reused by the sampler: metrics-server refreshes its readings at its
#: resolution (15 s by default), so reading it at every sample (10/s) would only repeat the same figures.
POD_METRICS_REUSE_S = 1.0


def _pod_reading(spec: str, configuration: Configuration,
                 usage_of: Optional[Callable[[str, str, str], Dict[str, Optional[float]]]] = None) -> Dict[str, Any]:
    """:func:`target_resources` of a pod (``pid`` None while its container is not running); ``usage_of``
    reads the metrics of ``(namespace, pod, container)`` (:func:`pod_usage` when None)."""
    state = pod_of(spec, configuration)
    namespace, pod = pod_ref(spec)
    usage = (usage_of or pod_usage)(namespace, pod, state.container) if state.identity is not None else \
        {"cpu_pct": None, "memory_mb": None}
    limit = state.memory_limit
    return {"pid": state.identity, "started": state.started, "label": spec, "rss_mb": usage["memory_mb"],
            "cpu_s": None, "cpu_pct": usage["cpu_pct"], "cg_mem_mb": usage["memory_mb"],
            "oom_kills": int(state.oom_killed), "cgroup": f"container {state.container} of {spec} (restarts {state.restarts}"
            f"{', last ended OOMKilled' if state.oom_killed else ''})",
            "cpu_limit": state.cpu_limit, "memory_limit_mb": round(limit / 2**20, 1) if limit else None}


def process_part(configuration: Configuration = None) -> Callable[[Any, Dict[str, Any], List[str]], None]:
    """A sampler part (:class:`chaosaitrapp.evidence.observe.ParallelObserver` ``extra``) writing the target
    process's ``proc_pid``, ``proc_started``, ``rss_mb``, ``cpu_s``, ``cg_mem_mb`` and ``oom_kills`` into each
    sample (``proc_pid`` None: not running then; the reason in the sample's error); for a pod, as
    :func:`target_resources` reads one, with ``cpu_pct`` in place of ``cpu_s``, its metrics read at most once per
    :data:`POD_METRICS_REUSE_S` (the pod itself at every sample: a restart shows at once)."""
    cache: Dict[int, Optional[Any]] = {}
    usage_read: Dict[str, Any] = {}

    def reused_usage(namespace: str, pod: str, container: str) -> Dict[str, Optional[float]]:
        """:func:`pod_usage`, reused for the same container within :data:`POD_METRICS_REUSE_S`."""
        key, now = (namespace, pod, container), time.monotonic()
        if usage_read.get("key") != key or now - usage_read["at"] >= POD_METRICS_REUSE_S:
            usage_read.update(key=key, at=now, usage=pod_usage(namespace, pod, container))
        return usage_read["usage"]

    try:  # the target string once; each sample reads only its pid (a restart shows as a new one)
        spec: Optional[str] = target_spec(configuration)
    except ChaosAitrappError:
        spec = None

    def read(client: Any, sample: Dict[str, Any], errors: List[str]) -> None:
        sample.update(proc_pid=None, proc_started=None, rss_mb=None, cpu_s=None, cg_mem_mb=None, oom_kills=None)
        if spec is not None and is_pod(spec):
            try:
                found = _pod_reading(spec, configuration, reused_usage)
            except ChaosAitrappError as exc:
                errors.append(f"target pod: {exc}")
                return
            if found["pid"] is None:
                errors.append(f"target pod: not running ({found['cgroup']})")
            sample.update(proc_pid=found["pid"], proc_started=found["started"], rss_mb=found["rss_mb"],
                          cpu_pct=found["cpu_pct"], cg_mem_mb=found["cg_mem_mb"], oom_kills=found["oom_kills"])
            return
        try:
            target = target_process(configuration, spec)
        except ChaosAitrappError as exc:
            errors.append(f"target process: {exc}")
            return
        if target.pid not in cache:
            try:
                cache[target.pid] = cgroup_of(target.pid)
            except ChaosAitrappError:
                cache[target.pid] = None
        group = cache[target.pid]
        sample.update(proc_pid=target.pid, proc_started=target.started, **resources(target.pid, group),
                      oom_kills=group.oom_kills() if group is not None else None)
    return read


def sampler_plan(current: Any, configuration: Configuration = None, secrets: Any = None) -> Any:
    """The stress family's sampler plan: every sample also reads the target process (:func:`process_part`),
    and the report draws its CPU and RSS lanes."""
    current.extra.append(process_part(configuration))
    current.meta["process_lanes"] = True
    return current
