"""Probes of the target's own process for the stress drills: who it is (a restart changes that), what it
uses, and the sampler's part that records it on the timeline (the CPU and RSS lanes of the report)."""
from typing import Any, Callable, Dict, List, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.errors import ChaosAitrappError, TargetError
from chaosaitrapp.stress.target import resources, target_process, target_spec
from chaosaitrapp.targets.cgroups import cgroup_of

__all__ = ["target_resources"]


def target_resources(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Returns the target process now: ``{"pid", "started", "label", "rss_mb", "cpu_s", "cg_mem_mb", "oom_kills",
    "cgroup", "cpu_limit", "memory_limit_mb"}`` (its cgroup's figures None where the kernel does not say).
    Raises ConfigError when no target process is known (``TARGET_PROCESS``), TargetNotFound when it is
    not running."""
    target = target_process(configuration)
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


def process_part(configuration: Configuration = None) -> Callable[[Any, Dict[str, Any], List[str]], None]:
    """A sampler part (:class:`chaosaitrapp.evidence.observe.ParallelObserver` ``extra``) writing the target
    process's ``proc_pid``, ``proc_started``, ``rss_mb``, ``cpu_s``, ``cg_mem_mb`` and ``oom_kills`` into each
    sample (``proc_pid`` None: not running then; the reason in the sample's error)."""
    cache: Dict[int, Optional[Any]] = {}
    try:  # the target string once; each sample reads only its pid (a restart shows as a new one)
        spec: Optional[str] = target_spec(configuration)
    except ChaosAitrappError:
        spec = None

    def read(client: Any, sample: Dict[str, Any], errors: List[str]) -> None:
        sample.update(proc_pid=None, proc_started=None, rss_mb=None, cpu_s=None, cg_mem_mb=None, oom_kills=None)
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
