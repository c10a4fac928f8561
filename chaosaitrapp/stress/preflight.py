"""The stress family's pre-flight: the values of the stress (offline, by the actions' own checks); online, a
known target process (not applicable without one) and ``stress-ng`` installed."""
from __future__ import annotations

import shutil
from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.stress.target import target_process, target_spec
from chaosaitrapp.targets.cgroups import cgroup_of

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
    try:
        target = target_process(configuration)
    except ChaosAitrappError as exc:
        return [f"stresses the target process: unknown ({exc})"]
    try:
        group = cgroup_of(target.pid).describe()
    except ChaosAitrappError:
        group = "no cgroup of its own"
    return [f"stresses {target.label} (pid {target.pid}, {group})"]
