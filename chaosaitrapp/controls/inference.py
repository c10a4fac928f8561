"""Which checks apply to an experiment: inferred from the faults its method injects through this
extension's actions, so a team's own experiment is timed like the bundled drills without saying so.

:func:`faults_of` reads the experiment (its declared method, not what ran) and names each fault
kind it injects; :func:`checks_of` turns them into checker names
(:func:`chaosaitrapp.checks.registry.checks_for_faults`). :func:`breaks_steady_state` says whether
the method breaks the steady-state hypothesis on purpose (then a ``continuously`` hypothesis
strategy cannot be met and the pre-flight refuses it).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from chaosaitrapp.checks.registry import checks_for_faults

Classifier = Callable[[Mapping[str, Any]], str]

#: ``(module, function)`` of a fault action -> the fault kind, from its (unsubstituted) arguments.
FAULT_ACTIONS: Dict[Tuple[str, str], Classifier] = {
    ("chaosaitrapp.dependencies.actions", "stop_dependency"):
        lambda args: f"{args.get('dependency', 'redis')}_stop",
    ("chaosaitrapp.orders.actions", "burst_orders"): lambda args: "order_burst",
    ("chaosaitrapp.broker.actions", "inject_broker_fault"): lambda args: f"broker_{args.get('kind')}",
    ("chaosaitrapp.broker.actions", "break_market_data"):
        lambda args: "broker_ws_close" if args.get("mode", "close") == "close" else "broker_ws_stall",
    ("chaosaitrapp.network.actions", "partition"): lambda args: f"partition_{args.get('dependency', 'redis')}",
    ("chaosaitrapp.network.actions", "slow_dependency"): lambda args: f"latency_{args.get('dependency', 'redis')}",
    ("chaosaitrapp.replicas.actions", "pause_leader"): lambda args: "split_brain_pause",
    ("chaosaitrapp.replicas.actions", "isolate_leader"): lambda args: "split_brain_partition",
    ("chaosaitrapp.stress.actions", "stress_cpu"): lambda args: "stress_cpu",
    ("chaosaitrapp.stress.actions", "stress_memory"): lambda args: "stress_memory",
}

#: An order burst is a fault of its own only when nothing else is injected; alongside another fault
#: (orders arriving during a Postgres outage) it is the load that fault is judged under.
LOAD_ONLY_WITH_OTHERS = "order_burst"

#: Fault kinds that break a steady state on purpose: a Redis stop (the target must stop being ready
#: and pause), a Postgres stop (the order book is unreadable until it returns), an order burst (the
#: throttle queue must fill), a dead market-data feed (``/ready`` must answer 503), a token expiry
#: (the ticker must be made again with the new token: ``marketdata_connected`` drops for a moment), a
#: partition (the target must stop trading or stop being ready). A slowdown below the target's
#: timeouts breaks nothing: its steady state must hold throughout.
STEADY_STATE_BREAKING = frozenset({"redis_stop", "postgres_stop", "order_burst", "broker_ws_close",
                                   "broker_ws_stall", "broker_ws_drop_subscriptions", "broker_token_invalidated",
                                   "partition_redis", "partition_postgres", "partition_broker",
                                   "split_brain_pause", "split_brain_partition"})


def _resolved(arguments: Mapping[str, Any], configuration: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``arguments`` with each value that is exactly ``${name}`` replaced by the configuration's value."""
    out = dict(arguments)
    for key, value in out.items():
        if isinstance(value, str) and value.startswith("${") and value.endswith("}") and configuration:
            out[key] = configuration.get(value[2:-1], value)
    return out


def faults_of(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The fault kinds the experiment's method injects through this extension, in method order, each
    once (``${name}`` arguments resolved from ``configuration`` when given; an order burst next to
    another fault counts as that fault's load, see :func:`loaded`)."""
    found = _all_kinds(experiment, configuration)
    if len(found) > 1 and LOAD_ONLY_WITH_OTHERS in found:  # orders sent during another fault are its load
        found.remove(LOAD_ONLY_WITH_OTHERS)
    return found


def loaded(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]] = None) -> bool:
    """True when orders arrive during another fault (an order burst next to it): the checks that judge
    what happened to orders under that fault then apply."""
    found = _all_kinds(experiment, configuration)
    return len(found) > 1 and LOAD_ONLY_WITH_OTHERS in found


def _all_kinds(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]]) -> List[str]:
    found: List[str] = []
    for activity in experiment.get("method") or []:
        provider = activity.get("provider") if isinstance(activity, dict) else None
        if not isinstance(provider, dict) or provider.get("type") != "python":
            continue
        classify = FAULT_ACTIONS.get((str(provider.get("module")), str(provider.get("func"))))
        if classify is None:
            continue
        kind = classify(_resolved(provider.get("arguments") or {}, configuration))
        if kind not in found:
            found.append(kind)
    return found


def checks_of(experiment: Mapping[str, Any], configuration: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The checker names that apply to ``experiment`` (the baseline plus those of its faults, and those
    of its faults under order load when orders arrive during them)."""
    return checks_for_faults(faults_of(experiment, configuration), loaded(experiment, configuration))


def breaks_steady_state(experiment: Mapping[str, Any],
                        configuration: Optional[Mapping[str, Any]] = None) -> List[str]:
    """The fault kinds of ``experiment`` that break its steady state on purpose (empty: none)."""
    return [kind for kind in faults_of(experiment, configuration) if kind in STEADY_STATE_BREAKING]
