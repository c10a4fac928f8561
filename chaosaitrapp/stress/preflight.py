"""The stress family's pre-flight: the values of the stress (offline, by the actions' own checks); online, a
known target process (not applicable without one) and ``stress-ng`` installed, or for a pod (``k8s:``) the
namespace guard and the pod's container running (Chaos Mesh runs the stressors there)."""
from __future__ import annotations

import shutil
from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.stress.chaosmesh import check_pod_memory, pod_of
from chaosaitrapp.stress.target import target_process, target_spec
from chaosaitrapp.targets.cgroups import cgroup_of, parse_size
from chaosaitrapp.targets.kubernetes.pod import is_pod

STRESS_FUNCS = ("stress_cpu", "stress_memory")


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """With ``online``: the target's process unknown (not applicable) or not running, ``stress-ng`` missing."""
    if not online or not any(c.func in STRESS_FUNCS for c in activities):
        return []
    try:
        spec = target_spec(configuration)
    except ConfigError as exc:
        return [NotApplicable(str(exc))]
    found: List[str] = []
    if is_pod(spec):  # Chaos Mesh stresses it: nothing runs here
        try:
            state = pod_of(spec, configuration)
            if state.identity is None:
                found.append(f"the target pod {spec}: its container is not running")
            for call in (c for c in activities if c.func == "stress_memory"):
                check_pod_memory(spec, state, parse_size(call.args.get("vm_bytes", "64M"), "vm_bytes"),
                                 int(call.args.get("workers", 1)))
        except ChaosAitrappError as exc:  # the namespace guard's refusal among them
            found.append(f"the target pod: {exc}")
        except ValueError as exc:
            found.append(f"the target pod: workers: {exc}")
        return found
    try:
        target_process(configuration, spec)
    except ChaosAitrappError as exc:
        found.append(f"the target process: {exc}")
    if shutil.which("stress-ng") is None:
        found.append("the stress drills need stress-ng (apt-get install stress-ng)")
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The target process the stress runs against (and its cgroup, when it has one of its own)."""
    if not any(c.func in STRESS_FUNCS for c in activities):
        return []
    if is_pod(spec := target_spec(configuration)):
        try:
            state = pod_of(spec, configuration)
        except ChaosAitrappError as exc:
            return [f"stresses the pod {spec}: unknown ({exc})"]
        return [f"stresses {spec} (container {state.container}, restarts {state.restarts}) through a Chaos Mesh "
                f"StressChaos in its container"]
    try:
        target = target_process(configuration)
    except ChaosAitrappError as exc:
        return [f"stresses the target process: unknown ({exc})"]
    try:
        group = cgroup_of(target.pid).describe()
    except ChaosAitrappError:
        group = "no cgroup of its own"
    return [f"stresses {target.label} (pid {target.pid}, {group})"]
