"""The one list of fault families (:data:`FAMILY_MODULES`) and target kinds (:data:`TARGET_KINDS`), and
what the rest of the extension asks of them. The centre (discovery, the controls, the sampler, the
report, the pre-flight, the CLI) iterates this registry and never names a family or a fault kind.

Two axes (:mod:`chaosaitrapp.declare`): a **family** says what a fault is and how it is judged; a
**target kind** says how faults are carried out on one sort of deployment. Adding a family is its own
folder (actions, probes, ``family.py``), its checkers, its experiment and docs, and one line in
:data:`FAMILY_MODULES`.

Declarations are pure data; the code they name (``"module:attribute"`` references) is resolved here
when needed (:func:`resolve`), inside this package only.
"""
from __future__ import annotations

import importlib
import os
import threading
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

from chaosaitrapp.checks.registry import BASELINE_CHECKS, GENERAL_CHECKS, Checker
from chaosaitrapp.config import CORE_SETTINGS
from chaosaitrapp.declare import Classifier, Family, FaultKind, Ref, Setting, TargetKind
from chaosaitrapp.drill import experiment as drill_experiment
from chaosaitrapp.errors import ConfigError

#: The fault families, one line each, in the order their evidence is gathered.
FAMILY_MODULES: Tuple[str, ...] = (
    "chaosaitrapp.dependencies.family",
    "chaosaitrapp.orders.family",
    "chaosaitrapp.broker.family",
    "chaosaitrapp.network.family",
    "chaosaitrapp.replicas.family",
    "chaosaitrapp.stress.family",
    "chaosaitrapp.gray.family",
    "chaosaitrapp.clock.family",
    "chaosaitrapp.crash.family",
    "chaosaitrapp.orderstates.family",
    "chaosaitrapp.campaign.family",
)

#: The target kinds: how a dependency named ``<scheme>:...`` is stopped, started and frozen.
TARGET_KINDS: Tuple[TargetKind, ...] = (
    TargetKind("lab", "a service the lab started, driven as the lab's state says",
               driver="chaosaitrapp.targets.lab:lab_driver", description="chaosaitrapp.targets.lab:lab_description",
               secrets="chaosaitrapp.targets.lab:lab_secrets"),
    TargetKind("docker", "a container, by container name or compose service label",
               driver="chaosaitrapp.targets.docker:docker_driver",
               drivers={"docker": "chaosaitrapp.targets.docker:DockerDriver"}),
    TargetKind("process", "a local process named by its pidfile, restarted by its command",
               driver="chaosaitrapp.targets.process:process_driver",
               drivers={"process": "chaosaitrapp.targets.process:ProcessDriver"}),
    TargetKind("k8s", "a StatefulSet or Deployment on Kubernetes (k8s:NAMESPACE/KIND/NAME), scaled through the API",
               driver="chaosaitrapp.targets.kubernetes.workload:k8s_driver",
               drivers={"k8s": "chaosaitrapp.targets.kubernetes.workload:WorkloadDriver",
                        "chaosmesh": "chaosaitrapp.targets.kubernetes.chaosmesh:ChaosMeshDriver",
                        "k8s-pod": "chaosaitrapp.targets.kubernetes.freeze:PodFreezeDriver"},
               guard="chaosaitrapp.targets.kubernetes.guard:check_driver"),
    TargetKind("pid", "a local process by its pid (frozen or stressed, never stopped)"),
)

#: Activity modules that belong to no family: the API itself, its metrics, the evidence probe.
CORE_ACTIVITY_MODULES: Tuple[str, ...] = (
    "chaosaitrapp.trader.probes",
    "chaosaitrapp.trader.actions",
    "chaosaitrapp.metrics.probes",
)
EVIDENCE_ACTIVITY_MODULES: Tuple[str, ...] = ("chaosaitrapp.evidence.probes",)

FAMILIES: Tuple[Family, ...] = tuple(importlib.import_module(m).FAMILY for m in FAMILY_MODULES)
_KINDS: Dict[str, Tuple[FaultKind, Family]] = {k.name: (k, f) for f in FAMILIES for k in f.kinds}

#: Test seam: ledger undo drivers built by a factory instead (:func:`register_driver_factory`, or
#: ``$AITRAPP_CHAOS_DRIVER_FACTORIES`` = ``kind=module:attr[,...]`` for child processes such as the watchdog).
FACTORIES_ENV = "AITRAPP_CHAOS_DRIVER_FACTORIES"
_FACTORIES: Dict[str, Callable[[dict], Any]] = {}


def resolve(ref: Ref) -> Any:
    """The object a ``"chaosaitrapp.<module>:<attribute>"`` reference names; ConfigError for a reference
    outside this package or one that does not resolve."""
    module, _, attribute = str(ref).partition(":")
    if not module.startswith("chaosaitrapp.") or not attribute:
        raise ConfigError(f"{ref!r} is not a reference to code of this package (chaosaitrapp.<module>:<name>)")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{ref!r} does not resolve: {exc}") from None


def families(names: Optional[Iterable[str]] = None) -> List[Family]:
    """Every family (registry order), or those that inject one of the fault kinds in ``names``."""
    if names is None:
        return list(FAMILIES)
    wanted = {_KINDS[n][1].name for n in names if n in _KINDS}
    return [f for f in FAMILIES if f.name in wanted]


def fault_kind(name: str) -> Optional[FaultKind]:
    """The declared fault kind ``name``, or None (an unknown kind gets the baseline checks only)."""
    found = _KINDS.get(name)
    return found[0] if found else None


def fault_kinds() -> List[str]:
    """Every declared fault kind's name."""
    return list(_KINDS)


def activity_modules() -> List[str]:
    """Every module whose functions are probes and actions: the core's, every family's, the evidence probe."""
    return list(CORE_ACTIVITY_MODULES) + [m for f in FAMILIES for m in f.activity_modules] + \
        list(EVIDENCE_ACTIVITY_MODULES)


def fault_actions() -> Dict[Tuple[str, str], Classifier]:
    """``(module, function)`` of every action that injects a fault -> its classifier."""
    return {(a.module, a.func): a.kind for f in FAMILIES for a in f.actions}


def checkers() -> Dict[str, Checker]:
    """Every checker by name: the general ones, then each family's."""
    found: Dict[str, Checker] = dict(GENERAL_CHECKS)
    for family in FAMILIES:
        for name, ref in family.checkers.items():
            found[name] = resolve(ref)
    return found


def checker_names() -> List[str]:
    """Every checker's name (without resolving any)."""
    return list(GENERAL_CHECKS) + [n for f in FAMILIES for n in f.checkers if n not in GENERAL_CHECKS]


def checks_for_faults(faults: Iterable[str], loaded: bool = False) -> List[str]:
    """The baseline checks plus those of every fault kind in ``faults`` (and, when ``loaded``: orders arrived
    during them, their ``loaded_checks``), each once, in a stable order."""
    names = list(BASELINE_CHECKS)
    for name in faults:
        kind = fault_kind(name)
        if kind is None:
            continue
        for check in kind.checks + (kind.loaded_checks if loaded else ()):
            if check not in names:
                names.append(check)
    return names


def settings() -> List[Setting]:
    """Every setting: the core's, then each family's (the README's settings table, in this order)."""
    return list(CORE_SETTINGS) + [s for f in FAMILIES for s in f.settings]


def drills() -> List[Any]:
    """Every family's drills (:class:`chaosaitrapp.drill.Drill`), in registry order."""
    return [d for f in FAMILIES if f.drills for d in resolve(f.drills)]


def experiments() -> Dict[str, Dict[str, Any]]:
    """``{drill name: its Chaos Toolkit experiment}``, generated from the families' drill declarations (what
    ``chaosaitrapp/experiments/<name>.json`` holds)."""
    table = {s.key: s for s in settings()}
    return {d.name: drill_experiment(d, table) for d in drills()}


def budgets() -> Dict[str, Optional[float]]:
    """Every family's limits with their defaults."""
    return {name: value for f in FAMILIES for name, value in f.budgets.items()}


def hooks(attribute: str, kinds: Optional[Iterable[str]] = None) -> List[Tuple[Family, Callable[..., Any]]]:
    """``(family, function)`` of every family that declares the hook ``attribute`` (``preflight``,
    ``preview``, ``sampler``, ``evidence``, ``sweep``, ``shading``), in registry order; only the families injecting one
    of ``kinds`` when given."""
    return [(f, resolve(getattr(f, attribute))) for f in families(kinds) if getattr(f, attribute)]


def prefetch(modules: Iterable[str], hook_names: Iterable[str]) -> threading.Thread:
    """Import ``modules`` and every family's hooks named in ``hook_names`` in a daemon thread of their own (a
    drill's method mostly waits on its target: what only the run's end uses is imported meanwhile, not before
    the run nor after it); a failure is left for the code that needs the module to meet. Returns the thread."""
    wanted, hooked = tuple(modules), tuple(hook_names)

    def load() -> None:
        try:
            for module in wanted:
                importlib.import_module(module)
            for name in hooked:
                hooks(name)
        except Exception:  # noqa: BLE001 - the import is tried again, and reported, where it is needed
            pass

    thread = threading.Thread(target=load, name="aitrapp-prefetch", daemon=True)
    thread.start()
    return thread


def figures() -> Mapping[str, Tuple[str, str]]:
    """``{check: (figure key, limit key)}`` every family has the seed log name plainly."""
    return {name: keys for f in FAMILIES for name, keys in f.figures.items()}


def seconds_checks() -> Tuple[str, ...]:
    """The checks whose figure is seconds (beyond the ``time_to_*``/``total_*`` ones)."""
    return tuple(name for f in FAMILIES for name in f.seconds_checks)


def target_kind(scheme: str) -> Optional[TargetKind]:
    """The target kind of ``scheme``, or None."""
    return next((k for k in TARGET_KINDS if k.scheme == scheme), None)


def register_driver_factory(kind: str, factory: Callable[[dict], Any]) -> None:
    """Test seam: build undo recipes whose ``driver`` is ``kind`` with ``factory(undo)`` in this process."""
    _FACTORIES[kind] = factory


def unregister_driver_factory(kind: str) -> None:
    """Undo :func:`register_driver_factory` for ``kind`` (no error if none)."""
    _FACTORIES.pop(kind, None)


def _env_factory(kind: str) -> Optional[Callable[[dict], Any]]:
    for item in filter(None, (part.strip() for part in os.environ.get(FACTORIES_ENV, "").split(","))):
        name, _, target = item.partition("=")
        if name.strip() != kind:
            continue
        module_name, _, attr = target.strip().partition(":")
        if not module_name or not attr:
            raise ValueError(f"{FACTORIES_ENV}: {item!r} is not kind=module:attr")
        return getattr(importlib.import_module(module_name), attr)
    return None


def _short_drivers() -> Dict[str, Ref]:
    found: Dict[str, Ref] = {}
    for owner in list(TARGET_KINDS) + list(FAMILIES):
        found.update(owner.drivers)
    return found


def driver_class(undo: Mapping[str, Any]) -> Optional[type]:
    """The driver class an undo recipe names (by reference, or by an older short name), or None."""
    kind = undo.get("driver") if isinstance(undo, Mapping) else None
    if not isinstance(kind, str):
        return None
    ref = _short_drivers().get(kind, kind if ":" in kind else None)
    try:
        return resolve(ref) if ref else None
    except ConfigError:
        return None


def driver_from_undo(undo: Mapping[str, Any]) -> Any:
    """Rebuild a driver from a fault ledger entry's undo recipe, in any process (rollback, watchdog,
    cleanup). The recipe's ``driver`` names its class (``"chaosaitrapp.targets.process:ProcessDriver"``);
    recipes of older ledgers with a short name (``process``, ``pause``...) still undo. ConfigError for a
    recipe that names no known driver."""
    kind = undo.get("driver") if isinstance(undo, Mapping) else None
    if not isinstance(kind, str):
        raise ConfigError(f"undo recipe names no driver: {undo!r}")
    factory = _FACTORIES.get(kind) or _env_factory(kind)
    if factory is not None:
        return factory(dict(undo))
    cls = driver_class(undo)
    if cls is None:
        raise ConfigError(f"undo recipe names unknown driver {kind!r}", undo_driver=kind)
    return cls.from_undo(dict(undo))
