"""``aitrapp-chaos doctor``: a preview, drill by drill, of what a run would do against this deployment,
without injecting anything (as AWS FIS previews its targets).

For each drill: whether it applies here, what it would act on (the resolved container, pid, proxy route,
replica: each fault family's ``preview``), the timing it would be judged by and where that came from, and
every problem its pre-flight finds against the target (the online checks), one line each. Nothing is
stopped, frozen or injected, and no ledger entry is undone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

from chaoslib.configuration import load_configuration
from chaoslib.experiment import ensure_experiment_is_valid

from chaosaitrapp import registry
from chaosaitrapp.config import core_setting, value
from chaosaitrapp.controls.arguments import calls
from chaosaitrapp.controls.safety import preflight
from chaosaitrapp.declare import NotApplicable
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.description import apply, describe_source
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.suite import load_experiment
from chaosaitrapp.targets.kubernetes.rbac import RULES, access


@dataclass
class Examination:
    """One drill examined: ``acts_on`` (what it would touch), ``problems`` (it cannot run),
    ``not_applicable`` (the deployment lacks what it needs: how to provide it)."""

    drill: str
    acts_on: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    not_applicable: List[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``ready``, ``not applicable`` or ``problem``."""
        if self.problems:
            return "problem"
        return "not applicable" if self.not_applicable else "ready"


def examine(path: Path, online: bool = True) -> Examination:
    """Examine the drill of experiment file ``path`` (module docstring). ``online`` False (``aitrapp-chaos
    validate``): nothing is asked of the target: Chaos Toolkit's own validation of the experiment, then the
    offline part of the pre-flight (settings and their spelling, arguments, each family's offline checks,
    the evidence control's arguments)."""
    found = Examination(path.stem)
    try:
        experiment = load_experiment(path)
        configuration: Dict[str, Any] = load_configuration(dict(experiment.get("configuration") or {}))
        apply(configuration, {}, argv=[])
        if not online:
            ensure_experiment_is_valid(experiment)
    except ChaosAitrappError as exc:
        found.problems.append(str(exc))
        return found
    except Exception as exc:  # noqa: BLE001 - Chaos Toolkit's own refusal of the experiment, named
        found.problems.append(f"{type(exc).__name__}: {exc}")
        return found
    if not online:
        for problem in preflight(experiment, configuration, None, check_target=False):
            (found.not_applicable if isinstance(problem, NotApplicable) else found.problems).append(str(problem))
        return found
    for family, show in registry.hooks("preview"):
        try:
            found.acts_on += show(calls(experiment, configuration, None, family.activity_modules), configuration, None)
        except ChaosAitrappError as exc:
            found.problems.append(f"{family.name}: {exc}")
    for problem in preflight(experiment, configuration, None, check_target=True):
        (found.not_applicable if isinstance(problem, NotApplicable) else found.problems).append(str(problem))
    return found


def kubernetes_access(configuration: Dict[str, Any]) -> Examination:
    """The run's rights on Kubernetes, as an examination of its own (``kubernetes``): the Role it needs in the
    ``K8S_NAMESPACE`` (:mod:`chaosaitrapp.targets.kubernetes.rbac`), each verb as the API server answers a
    SelfSubjectAccessReview; a denied verb is a problem, an undecided one is said so."""
    namespace = str(value(configuration, core_setting("k8s_namespace")))
    found = Examination("kubernetes")
    found.acts_on.append(f"namespace {namespace}; the Role a run needs: " + "; ".join(
        f"{group or 'core'}/{resource}: {','.join(verbs)}" for group, resource, verbs in RULES))
    try:
        answers = access(namespace)
    except ChaosAitrappError as exc:
        found.problems.append(str(exc))
        return found
    for what, answer in answers:
        if answer == "denied":
            found.problems.append(f"the service account may not {what} in {namespace}")
        elif answer != "allowed":
            found.acts_on.append(f"{what}: {answer}")
    return found


def timing_lines(configuration: Dict[str, Any], from_description: List[str]) -> List[str]:
    """The target's timing as the drills will judge it: each figure and its source, and whether what is not
    given can be learned from the lock key (and through what)."""
    timing = target_timing(configuration, from_description=from_description)
    lines = timing.describe()
    if timing.unknown("lock_ttl", "lock_refresh"):
        try:
            reader = target_lock_reader(configuration)
        except ChaosAitrappError as exc:
            reader, why = None, str(exc)
        else:
            why = "no lock_redis, REDIS_URL or Redis target to read it through"
        lines.append(f"lock timing will be learned from the lock key through {reader.label}" if reader else
                     f"lock timing cannot be learned ({why}): checks that need it will say unknown")
    return lines


def render(examinations: List[Examination], configuration: Dict[str, Any], from_description: List[str]) -> List[str]:
    """The doctor's report, one line per fact or problem: where the deployment is described, its timing, then
    each drill."""
    lines = [describe_source(configuration)] + [f"timing: {line}" for line in timing_lines(configuration,
                                                                                            from_description)]
    for item in examinations:
        lines.append(f"{item.drill}: {item.status}")
        lines += [f"  acts on: {line}" for line in item.acts_on]
        lines += [f"  not applicable: {line}" for line in item.not_applicable]
        lines += [f"  problem: {line}" for line in item.problems]
    return lines


def exit_code(examinations: List[Examination], named: bool = False, strict: bool = False) -> int:
    """0 when every selected drill can run (a drill of the default selection that does not apply is skipped,
    as ``aitrapp-chaos run`` skips it), 2 otherwise."""
    for item in examinations:
        if item.problems or item.not_applicable and (named or strict):
            return 2
    return 0
