"""The pre-flight's checks of an experiment's activities and controls, before anything is injected:
durations and sizes of every activity of ours, each fault family's own pre-flight over its activities
(:func:`family_problems`, through the registry), the evidence control's checks and limits. Each returns
problems (sentences naming the activity and the bad value); :func:`chaosaitrapp.controls.safety.preflight`
refuses the drill when there is any.
"""
from __future__ import annotations

import difflib
from typing import Any, Dict, Iterable, List, Tuple

from chaoslib import substitute
from chaoslib.types import Configuration, Experiment, Secrets

from chaosaitrapp import registry
from chaosaitrapp.controls.limits import check_limit_overrides, limit_overrides_from_env
from chaosaitrapp.declare import ActivityCall
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence import recorder

DURATION_ARGS = ("timeout", "lease", "interval", "duration", "stable_for")


def phased(experiment: Experiment) -> Iterable[Tuple[str, Dict[str, Any]]]:
    """``(phase, activity)`` of every activity: the steady state's probes, the method, the rollbacks."""
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for phase, items in (("steady-state", hypothesis.get("probes")), ("method", experiment.get("method")),
                         ("rollbacks", experiment.get("rollbacks"))):
        for activity in items or []:
            if isinstance(activity, dict):
                yield phase, activity


def activities(experiment: Experiment) -> Iterable[Dict[str, Any]]:
    """Every activity of the experiment (:func:`phased` without the phase)."""
    for _, activity in phased(experiment):
        yield activity


def ours(activity: Dict[str, Any]) -> bool:
    provider = activity.get("provider") or {}
    return provider.get("type") == "python" and str(provider.get("module", "")).startswith("chaosaitrapp.")


def argument_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets) -> List[str]:
    """Bad values in the arguments of this extension's activities (after ``${}`` substitution)."""
    problems: List[str] = []
    for activity in activities(experiment):
        if not ours(activity):
            continue
        name = activity.get("name", "?")
        args = substitute(dict((activity.get("provider") or {}).get("arguments") or {}), configuration, secrets)
        for key in DURATION_ARGS:
            if key in args:
                value = args[key]
                negative_ok = key == "stable_for"  # -1: auto
                if not isinstance(value, (int, float)) or isinstance(value, bool) or (value < 0 and not negative_ok):
                    problems.append(f"activity {name!r}: {key} must be a non-negative number of seconds, got {value!r}")
        for key in ("count", "rate"):
            if key in args and (not isinstance(args[key], (int, float)) or isinstance(args[key], bool)
                                or args[key] <= 0):
                problems.append(f"activity {name!r}: {key} must be a positive number, got {args[key]!r}")
    return problems


def calls(experiment: Experiment, configuration: Configuration, secrets: Secrets,
          modules: Iterable[str]) -> List[ActivityCall]:
    """The experiment's activities whose python provider is one of ``modules``, ``${name}``s substituted."""
    wanted = set(modules)
    found: List[ActivityCall] = []
    for phase, activity in phased(experiment):
        provider = activity.get("provider") or {}
        if not ours(activity) or provider.get("module") not in wanted:
            continue
        args = substitute(dict(provider.get("arguments") or {}), configuration, secrets)
        found.append(ActivityCall(str(activity.get("name", "?")), str(activity.get("type", "")), phase,
                                  str(provider.get("module")), str(provider.get("func", "")), args))
    return found


def family_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets,
                    online: bool) -> List[str]:
    """Every family's pre-flight over its own activities of the experiment (``online`` False: only what
    needs no target); a family the experiment has no activity of is not asked (nor its module imported)."""
    found: List[str] = []
    for family in registry.families():
        own = calls(experiment, configuration, secrets, family.activity_modules)
        if own and family.preflight:
            found += registry.resolve(family.preflight)(own, configuration, secrets, online)
    return found


#: The evidence control's arguments (its module docstring), and where the older timing arguments went.
EVIDENCE_ARGUMENTS = ("drill", "checks", "extra_checks", "skip_checks", "limits", "sample_interval", "reports_dir",
                      "report")
MOVED_TO_SETTINGS = {"lock_ttl": "lock_ttl", "refresh": "lock_refresh", "backoff_max": "lock_backoff_max",
                     "ticker_max_delay": "ticker_max_delay"}


def evidence_problems(experiment: Experiment) -> List[str]:
    """Unknown arguments of the evidence control (a typo gets a "did you mean"; the timing that moved to
    the settings says where), bad ``checks``/``limits`` values and a bad ``$AITRAPP_CHECK_LIMITS``."""
    problems: List[str] = []
    arguments = recorder.control_arguments(experiment, recorder.EVIDENCE_MODULE) or {}
    for key in arguments:
        if key in EVIDENCE_ARGUMENTS:
            continue
        if key in MOVED_TO_SETTINGS:
            problems.append(f"the evidence control's {key!r} is now the setting {MOVED_TO_SETTINGS[key]!r} (the "
                            "deployment description, the environment or the experiment's configuration)")
            continue
        guess = difflib.get_close_matches(key, EVIDENCE_ARGUMENTS, n=1, cutoff=0.7)
        problems.append(f"the evidence control has no argument {key!r}" + (f"; did you mean {guess[0]!r}?" if guess
                        else f" (known: {', '.join(EVIDENCE_ARGUMENTS)})"))
    for key in ("checks", "extra_checks", "skip_checks"):
        names = arguments.get(key)
        if names is None:
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"the evidence control's {key!r} must be a list of checker names, got {names!r}")
            continue
        known = registry.checker_names()
        for unknown in [n for n in names if n not in known]:
            problems.append(f"the evidence control's {key!r} names no checker {unknown!r}; "
                            f"known: {', '.join(known)}")
    for where, load in (("the evidence control's 'limits'",
                         lambda: check_limit_overrides(arguments.get("limits") or {}, "the evidence control's 'limits'")),
                        ("AITRAPP_CHECK_LIMITS", limit_overrides_from_env)):
        try:
            load()
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
