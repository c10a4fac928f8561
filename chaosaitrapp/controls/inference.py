"""Which checks apply to an experiment: inferred from the faults its method injects through this
extension's actions, so a team's own experiment is timed like the bundled drills without saying so.

:func:`faults_of` reads the experiment (its declared method, not what ran) and names each fault kind it
injects, as the families declare their fault actions (:func:`chaosaitrapp.registry.fault_actions`);
:func:`checks_of` turns them into checker names (:func:`chaosaitrapp.registry.checks_for_faults`).
:func:`breaks_steady_state` says whether the method breaks the steady-state hypothesis on purpose (then a
``continuously`` hypothesis strategy cannot be met and the pre-flight refuses it). A fault kind declared
as *load* (an order burst) is a fault of its own only when nothing else is injected; beside another fault
it is the load that fault is judged under (:func:`loaded`).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from chaosaitrapp import registry


def _resolved(arguments: Mapping[str, Any], configuration: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``arguments`` with each value that is exactly ``${name}`` replaced by the configuration's value."""
    out = dict(arguments)
    for key, value in out.items():
        if isinstance(value, str) and value.startswith("${") and value.endswith("}") and configuration:
            out[key] = configuration.get(value[2:-1], value)
    return out


def _is_load(kind: str) -> bool:
    declared = registry.fault_kind(kind)
    return declared is not None and declared.load


def _all_kinds(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]]) -> List[str]:
    actions = registry.fault_actions()
    found: List[str] = []
    for activity in experiment.get("method") or []:
        provider = activity.get("provider") if isinstance(activity, dict) else None
        if not isinstance(provider, dict) or provider.get("type") != "python":
            continue
        classify = actions.get((str(provider.get("module")), str(provider.get("func"))))
        if classify is None:
            continue
        kind = classify(_resolved(provider.get("arguments") or {}, configuration))
        if kind not in found:
            found.append(kind)
    return found


def faults_of(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The fault kinds the experiment's method injects through this extension, in method order, each once
    (``${name}`` arguments resolved from ``configuration`` when given; a load next to another fault counts
    as that fault's load, see :func:`loaded`)."""
    found = _all_kinds(experiment, configuration)
    if len(found) > 1:
        found = [kind for kind in found if not _is_load(kind)]
    return found


def loaded(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]] = None) -> bool:
    """True when orders arrive during another fault (a load next to it): the checks that judge what happened
    to orders under that fault then apply."""
    found = _all_kinds(experiment, configuration)
    return len(found) > 1 and any(_is_load(kind) for kind in found)


def checks_of(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The checker names that apply to ``experiment`` (the baseline plus those of its faults, and those
    of its faults under order load when orders arrive during them)."""
    return registry.checks_for_faults(faults_of(experiment, configuration), loaded(experiment, configuration))


def breaks_steady_state(experiment: Mapping[str, Any],
                        configuration: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The fault kinds of ``experiment`` that break its steady state on purpose (empty: none)."""
    return [kind for kind in faults_of(experiment, configuration)
            if getattr(registry.fault_kind(kind), "breaks_steady_state", False)]
