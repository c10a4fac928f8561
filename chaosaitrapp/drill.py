"""A drill declared by what is particular to it, and the blocks every drill shares.

A shipped experiment (``chaosaitrapp/experiments/<drill>.json``) is self-contained Chaos Toolkit JSON, and
generated: its family declares it in ``<family>/drills.py`` as a :class:`Drill` (title, description, tags,
the settings it reads, its steady state, method and rollbacks), built from :func:`probe`, :func:`action`
and the shared blocks below (the steady-state probes, the metric snapshots, the rollbacks' tail); the
controls, the runtime and each setting's ``configuration`` entry are added by :func:`experiment`.
``aitrapp-chaos docs`` (``make docs``) writes the JSON; a test asserts each shipped file is what its
declaration gives, so the two never drift.

Pure data: imports only :mod:`chaosaitrapp.declare`; the settings table is passed in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from chaosaitrapp.declare import Ref, Setting

#: Every experiment's controls: evidence (timeline, checks, verdict) and safety (pre-flight, ledger, SIGTERM).
CONTROLS = ({"name": "aitrapp-evidence", "provider": {"type": "python", "module": "chaosaitrapp.controls.evidence"}},
            {"name": "aitrapp-safety", "provider": {"type": "python", "module": "chaosaitrapp.controls.safety"}})
#: Every experiment's runtime: rollbacks always played (a drill that failed or was interrupted undoes its fault).
RUNTIME = {"rollbacks": {"strategy": "always"}}
#: How a setting's kind is read from the environment by Chaos Toolkit (``env_var_type``).
ENV_VAR_TYPES = {"number": "float", "int": "int"}
_UNSET = object()


def _provider(ref: Ref, arguments: Mapping[str, Any]) -> Dict[str, Any]:
    module, _, func = ref.partition(":")
    provider: Dict[str, Any] = {"type": "python", "module": module, "func": func}
    if arguments:
        provider["arguments"] = dict(arguments)
    return provider


def probe(name: str, ref: Ref, tolerance: Any = _UNSET, *, background: bool = False,
          **arguments: Any) -> Dict[str, Any]:
    """A python probe: ``ref`` is ``"module:function"``, ``arguments`` its keyword arguments (``${setting}``
    placeholders as Chaos Toolkit substitutes them), ``tolerance`` (steady-state probes) as Chaos Toolkit
    reads it, ``background`` to run it beside the next activities."""
    return _activity("probe", name, ref, tolerance, background, arguments)


def action(name: str, ref: Ref, *, background: bool = False, **arguments: Any) -> Dict[str, Any]:
    """A python action (see :func:`probe`)."""
    return _activity("action", name, ref, _UNSET, background, arguments)


def _activity(kind: str, name: str, ref: Ref, tolerance: Any, background: bool,
              arguments: Mapping[str, Any]) -> Dict[str, Any]:
    activity: Dict[str, Any] = {"type": kind, "name": name, "provider": _provider(ref, arguments)}
    if tolerance is not _UNSET:
        activity["tolerance"] = tolerance
    if background:
        activity["background"] = True
    return activity


# ---- steady-state probes --------------------------------------------------------------------------------
READY = probe("api-is-ready", "chaosaitrapp.trader.probes:ready_status", "ready")
HEALTHY = probe("api-is-healthy", "chaosaitrapp.trader.probes:health_status", "healthy")
LEADING = probe("instance-is-leader", "chaosaitrapp.metrics.probes:leader_status", 1)
NOT_PAUSED = probe("orchestrator-not-paused", "chaosaitrapp.trader.probes:is_paused", False)
HEARTBEATS_FRESH = probe("heartbeats-fresh", "chaosaitrapp.metrics.probes:heartbeat_ages",
                         probe("all-heartbeats-below-heartbeat-max", "chaosaitrapp.metrics.probes:heartbeats_below",
                               limit="${heartbeat_max}"))
STREAMING = probe("market-data-connected", "chaosaitrapp.trader.probes:market_data_connected", True)

# ---- the method's shared steps --------------------------------------------------------------------------
NO_DUPLICATES_IN_POSTGRES = probe("no-duplicate-client-order-id-in-postgres",
                                  "chaosaitrapp.orders.probes:duplicate_orders_sql",
                                  {"type": "range", "range": [0, 0], "target": "count"})
SNAPSHOT_BEFORE = probe("snapshot-before", "chaosaitrapp.evidence.probes:snapshot_metrics", label="before")
SNAPSHOT_AFTER_STOP = probe("snapshot-after-stop", "chaosaitrapp.evidence.probes:snapshot_metrics",
                            label="after_stop")
SNAPSHOT_AFTER_RECOVERY = probe("snapshot-after-recovery", "chaosaitrapp.evidence.probes:snapshot_metrics",
                                label="after_recovery")
READY_AGAIN = probe("ready-again", "chaosaitrapp.trader.probes:wait_ready", timeout="${wait_ready_timeout}",
                    interval=0.05)
READY_ANSWERS_503 = probe("ready-answers-503", "chaosaitrapp.trader.probes:wait_not_ready",
                          timeout="${detect_timeout}", interval=0.05)
ORCHESTRATOR_PAUSED = probe("orchestrator-paused", "chaosaitrapp.trader.probes:wait_paused",
                            timeout="${detect_timeout}", interval=0.05)
#: Orders arriving in the background for the target's whole lease (a lock fault's drills).
ORDERS_OVER_THE_LEASE = action("orders-keep-arriving", "chaosaitrapp.orders.actions:burst_orders", background=True,
                               count="${broker_orders}", over="lease", duplicate_every=0,
                               injector_command="${order_injector}")
#: Leader and resumed again after a lock fault, within the recovery deadline.
LEADER_BACK = probe("leader-back-to-1", "chaosaitrapp.metrics.probes:wait_leader", expected=1,
                    timeout="${wait_ready_timeout}", interval=0.05)
RESUMED = probe("orchestrator-resumed", "chaosaitrapp.trader.probes:wait_resumed", timeout="${wait_ready_timeout}",
                interval=0.05)
ORDERS_SETTLED = probe("orders-settled", "chaosaitrapp.orders.probes:wait_orders_settled",
                       timeout="${wait_ready_timeout}", interval=0.1)

# ---- the rollbacks' tail: ready again (settled), then stop the suite on a failure ---------------------
CONFIRM_READY = action("confirm-ready-after-rollback", "chaosaitrapp.trader.probes:wait_ready",
                       timeout="${wait_ready_timeout}", interval=0.05, stable_for="${rollback_settle}")
ABORT_ON_FAILURE = action("abort-if-failed-and-pause-on-fail", "chaosaitrapp.trader.actions:abort_on_failure",
                          reason="chaos drill failed")


@dataclass(frozen=True)
class Drill:
    """One drill: ``name`` (its experiment file ``<name>.json``), Chaos Toolkit's ``title``, ``description``
    and ``tags``; ``settings``: the setting keys it reads (its ``configuration``, in this order), with
    ``defaults`` where this drill's default differs from the settings table's; ``steady``: the hypothesis
    title and its probes; ``method`` and ``rollbacks``: its activities; ``hypothesis_strategy``: Chaos
    Toolkit's, when not its default (``continuously``: the steady state is probed throughout the method)."""

    name: str
    title: str
    description: str
    tags: Tuple[str, ...]
    settings: Tuple[str, ...]
    steady: Tuple[str, Tuple[Dict[str, Any], ...]]
    method: Tuple[Dict[str, Any], ...]
    rollbacks: Tuple[Dict[str, Any], ...]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    hypothesis_strategy: Optional[str] = None


def configuration_entry(setting: Setting, default: Any = _UNSET) -> Dict[str, Any]:
    """A setting's ``configuration`` entry: read from its environment variable, with its default (the
    drill's own when given; unset and flags as the strings Chaos Toolkit passes: ``""``, ``"0"``/``"1"``)."""
    value = setting.default if default is _UNSET else default
    if setting.kind == "flag":
        value = "1" if value is True else "0" if value in (None, False) else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 5, not 5.0: as a user writes it
    entry: Dict[str, Any] = {"type": "env", "key": setting.env, "default": "" if value is None else value}
    if setting.kind in ENV_VAR_TYPES:
        entry["env_var_type"] = ENV_VAR_TYPES[setting.kind]
    return entry


def experiment(drill: Drill, settings: Mapping[str, Setting]) -> Dict[str, Any]:
    """The Chaos Toolkit experiment of ``drill``; ``settings``: the settings table by key. KeyError names a
    setting the table lacks."""
    configuration: Dict[str, Any] = {}
    for key in drill.settings:
        if key not in settings:
            raise KeyError(f"drill {drill.name}: no setting {key!r} in the settings table")
        configuration[key] = configuration_entry(settings[key], drill.defaults.get(key, _UNSET))
    title, probes = drill.steady
    return {
        "version": "1.0.0",
        "title": drill.title,
        "description": drill.description,
        "tags": list(drill.tags),
        "configuration": configuration,
        "controls": [dict(c) for c in CONTROLS],
        "steady-state-hypothesis": {"title": title, "probes": list(probes)},
        "method": list(drill.method),
        "rollbacks": list(drill.rollbacks),
        "runtime": {**RUNTIME, **({"hypothesis": {"strategy": drill.hypothesis_strategy}}
                                  if drill.hypothesis_strategy else {})},
    }


def drill_by_name(drills: Tuple[Drill, ...], name: str) -> Optional[Drill]:
    """The drill called ``name`` among ``drills``, or None."""
    return next((d for d in drills if d.name == name), None)
