"""What a fault family and a target kind declare about themselves: pure data that imports nothing of the
extension, so that the registry listing them (:mod:`chaosaitrapp.registry`) sits below everything that
iterates it.

A fault **family** (dependencies, orders, broker, network, replicas, stress, ...) is one unit: its folder
holds its actions, probes and ledger driver, and one module ``<family>/family.py`` declares what the
family means to the rest of the extension (:class:`Family`). A **target kind** (lab, process, Docker, ...)
is the other axis: how a fault is carried out on one sort of deployment (:class:`TargetKind`).

Code is referred to by a :data:`Ref`, a string ``"chaosaitrapp.<module>:<attribute>"`` (as a Chaos
Toolkit python provider names its module), which the registry resolves when it is needed: a declaration
never imports the code it describes, so declarations can be read from anywhere without an import cycle.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

#: ``"chaosaitrapp.<module>:<attribute>"``: code inside this package, resolved by the registry.
Ref = str
#: A fault action's classifier: the fault kind it injects, from its arguments (``${name}``s resolved).
Classifier = Callable[[Mapping[str, Any]], str]

#: Setting kinds and how a value is read: ``str`` as given, ``number`` a float, ``int`` a whole number,
#: ``flag`` true for 1/true/yes/on, ``list`` a comma list (or a JSON list), ``url`` an http(s) URL.
SETTING_KINDS = ("str", "number", "int", "flag", "list", "url")


class NotApplicable(str):
    """A pre-flight finding that the deployment lacks what a drill needs (no broker fault proxy, one replica,
    no known target process): the drill does not apply here, which is not a failure of the target; the text
    says what is missing and how to provide it."""


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: configuration ``key``, environment variable ``env``, the seed's
    ``default`` (None: unset), what it means (``doc``, the README's wording) and how a value is read
    (``kind``, one of :data:`SETTING_KINDS`). ``yields_to``: settings whose explicit value (environment,
    ``--var``) makes a deployment description's value of this one give way (an explicitly named Redis
    container beats the description's Redis target)."""

    key: str
    env: str
    default: Any
    doc: str
    kind: str = "str"
    yields_to: Tuple[str, ...] = ()


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault a family injects (``redis_stop``, ``broker_ws_close``...).

    ``checks``: the checkers that judge it (on top of every drill's baseline); ``loaded_checks``: those
    added when orders arrive during it; ``breaks_steady_state``: the method breaks the steady state on
    purpose (a ``continuously`` hypothesis strategy is then refused); ``timing``: which of the target's
    timings its detection and recovery limits follow (``lock``: the leader lock, learned from the lock key
    when not given; ``feed``: the market-data ticker; ``none``: its checks need neither); ``load``: the fault is the load of any other fault beside it (an order burst), a fault of its
    own only when alone.
    """

    name: str
    checks: Tuple[str, ...] = ()
    loaded_checks: Tuple[str, ...] = ()
    breaks_steady_state: bool = True
    timing: str = "lock"
    load: bool = False


@dataclass(frozen=True)
class FaultAction:
    """An action of the family that injects a fault: ``module`` and ``func`` as an experiment's python
    provider names them, and ``kind``, the fault kind from its arguments."""

    module: str
    func: str
    kind: Classifier


@dataclass(frozen=True)
class ActivityCall:
    """One activity of an experiment as a family's pre-flight sees it: its ``name``, ``type`` (``probe``,
    ``action``), where it is declared (``phase``: ``steady-state``, ``method``, ``rollbacks``), its python
    provider's ``module`` and ``func``, and its ``args`` with ``${name}``s substituted."""

    name: str
    type: str
    phase: str
    module: str
    func: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Family:
    """Everything a fault family means to the rest of the extension (module docstring).

    - ``activity_modules``: its probes and actions modules (discovery, docs);
    - ``settings``: its rows of the settings table;
    - ``kinds`` and ``actions``: the fault kinds it injects and the actions that inject them;
    - ``checkers``: the checkers it brings, ``{name: Ref}`` (pure functions in :mod:`chaosaitrapp.checks`);
    - ``drivers``: ledger undo drivers by their short (older) names, ``{name: Ref}`` of the class;
    - ``preflight``: ``(activities, configuration, secrets, online) -> problems`` over the experiment's
      activities of this family (``online`` False: only what needs no target); not called for an experiment
      that has none of them;
    - ``preview``: ``(activities, configuration, secrets) -> lines``: what the drill will act on, resolved
      (the container, pid, proxy route, replica), for ``aitrapp-chaos doctor``; nothing is touched;
    - ``sampler``: ``(plan, configuration, secrets) -> plan``: what the timeline sampler reads for a drill
      injecting this family's faults (:class:`chaosaitrapp.evidence.sampler.SamplerPlan`);
    - ``evidence``: ``(run, configuration, secrets) -> Optional[dict]`` after the run, in registry order:
      what the family gathers (``{"summary": ..., "files": {label: path}}``), or None;
    - ``sweep``: ``() -> problems``: undo leftovers of earlier runs that no ledger entry stands for;
    - ``budgets``: its limits with their defaults (overridable like every limit);
    - ``figures``: ``{check: (figure key, limit key)}`` the seed log names plainly; ``seconds_checks``:
      checks whose figure is seconds;
    - ``shading``: ``(timeline) -> [(start, end)]``: windows the report shades in red;
    - ``drills``: its drills, a tuple of :class:`chaosaitrapp.drill.Drill` (their experiment JSON is generated).
    """

    name: str
    doc: str
    activity_modules: Tuple[str, ...] = ()
    settings: Tuple[Setting, ...] = ()
    kinds: Tuple[FaultKind, ...] = ()
    actions: Tuple[FaultAction, ...] = ()
    checkers: Mapping[str, Ref] = field(default_factory=dict)
    drivers: Mapping[str, Ref] = field(default_factory=dict)
    preflight: Optional[Ref] = None
    preview: Optional[Ref] = None
    sampler: Optional[Ref] = None
    evidence: Optional[Ref] = None
    sweep: Optional[Ref] = None
    budgets: Mapping[str, Optional[float]] = field(default_factory=dict)
    figures: Mapping[str, Tuple[str, str]] = field(default_factory=dict)
    seconds_checks: Tuple[str, ...] = ()
    shading: Optional[Ref] = None
    drills: Optional[Ref] = None


@dataclass(frozen=True)
class TargetKind:
    """How faults are carried out on one sort of deployment: the ``scheme`` of its target strings
    (``docker:NAME``...), ``driver``: ``(rest, service) -> Driver`` for a dependency named that way (None: the
    scheme names a process, not a dependency), ``drivers``: its ledger undo drivers by their short names;
    ``description``: ``(api) -> Optional[path]``, a deployment description it keeps for that API (the lab's);
    ``secrets``: ``(description) -> {name: value}``, the secrets of a description it provided, in memory;
    ``guard``: ``(driver, configuration) -> None``, raises ConfigError for a target the drill may not act on,
    before any call to it."""

    scheme: str
    doc: str
    driver: Optional[Ref] = None
    drivers: Dict[str, Ref] = field(default_factory=dict)
    description: Optional[Ref] = None
    secrets: Optional[Ref] = None
    guard: Optional[Ref] = None


def ref_of(cls: type) -> Ref:
    """The reference that names ``cls`` (``"module:Class"``): what a driver's undo recipe names it by."""
    return f"{cls.__module__}:{cls.__qualname__}"
