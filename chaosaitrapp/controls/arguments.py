"""The pre-flight's checks of an experiment's activities and controls, before anything is injected:
durations and sizes, dependencies and their targets, broker faults, partitions, the evidence
control's checks and limits. Each returns problems (sentences naming the activity and the bad value);
:func:`chaosaitrapp.controls.safety.preflight` refuses the drill when there is any.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List

from chaoslib.types import Configuration, Experiment, Secrets

from chaosaitrapp.config import settings_from
from chaosaitrapp.evidence import recorder

DURATION_ARGS = ("timeout", "lease", "interval", "duration", "stable_for")


def activities(experiment: Experiment) -> Iterable[Dict[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    yield from hypothesis.get("probes") or []
    yield from experiment.get("method") or []
    yield from experiment.get("rollbacks") or []


def ours(activity: Dict[str, Any]) -> bool:
    provider = activity.get("provider") or {}
    return provider.get("type") == "python" and str(provider.get("module", "")).startswith("chaosaitrapp.")


def argument_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets) -> List[str]:
    """Bad values in the arguments of this extension's activities (after ``${}`` substitution)."""
    from chaoslib import substitute

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


def dependency_stops(experiment: Experiment, configuration: Configuration, secrets: Secrets,
                      problems: List[str]) -> List[Any]:
    """``(activity name, driver)`` of every dependency the method (or a rollback) acts on; bad
    dependency names and target strings are added to ``problems``."""
    from chaoslib import substitute

    from chaosaitrapp.dependencies.drivers import dependency_driver
    from chaosaitrapp.errors import ChaosAitrappError

    stops = []
    for activity in activities(experiment):
        provider = activity.get("provider") or {}
        if not ours(activity) or not str(provider.get("func", "")).endswith("_dependency"):
            continue
        args = substitute(dict(provider.get("arguments") or {}), configuration, secrets)
        try:
            driver = dependency_driver(args.get("dependency", "redis"), args.get("target", ""), configuration)
        except ChaosAitrappError as exc:
            problems.append(f"activity {activity.get('name', '?')!r}: {exc}")
            continue
        if activity.get("type") == "action" and provider.get("func") == "stop_dependency":
            stops.append((activity.get("name", "?"), driver))
    return stops


BROKER_FUNCS = ("inject_broker_fault", "break_market_data", "restore_market_data", "clear_broker_faults",
                "wait_broker_faults_cleared")
NETWORK_FUNCS = ("partition", "slow_dependency")


def network_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets,
                      check_target: bool) -> List[str]:
    """Bad partition values (dependency, kind, direction, mechanism, delay, port); with ``check_target``,
    a TCP fault proxy that does not serve the dependency, or kernel rules that cannot be made here."""
    from chaoslib import substitute

    from chaosaitrapp.errors import ChaosAitrappError
    from chaosaitrapp.network import actions, kernel

    problems: List[str] = []
    for activity in activities(experiment):
        provider = activity.get("provider") or {}
        if not ours(activity) or provider.get("module") != "chaosaitrapp.network.actions" \
                or provider.get("func") not in NETWORK_FUNCS:
            continue
        name = activity.get("name", "?")
        args = substitute(dict(provider.get("arguments") or {}), configuration, secrets)
        kind = "latency" if provider.get("func") == "slow_dependency" else args.get("kind", "blackhole")
        dependency = args.get("dependency", "redis")
        delay = args.get("delay_ms", 100 if kind == "latency" else 0)
        mechanism = args.get("mechanism", "auto")
        try:
            actions._check(dependency, kind, args.get("direction", "both"), mechanism, delay)
            port = args.get("port", 0)
            if port and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
                raise ChaosAitrappError(f"port must be 1-65535, got {port!r}")
            if not check_target or dependency == "broker":
                continue
            how = actions._mechanism(mechanism, dependency, configuration)
            if how == "proxy":
                client = actions.NetProxyClient.from_configuration(configuration)
                if client is None or dependency not in client.routes():
                    problems.append(f"activity {name!r}: no TCP fault proxy serves {dependency} for this target "
                                    "(set NET_PROXY, or PARTITION_MECHANISM=kernel)")
            else:
                if kind == "latency":
                    raise ChaosAitrappError("kernel rules cannot add latency (no netem): use the TCP fault proxy")
                kernel.nft_binary()
                pid = int(args.get("netns_pid") or 0) or None
                kernel.check_namespace(pid, settings_from(configuration).kernel_rules)
        except ChaosAitrappError as exc:
            problems.append(f"activity {name!r}: {exc}")
    return problems


def broker_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets,
                     check_target: bool) -> List[str]:
    """Bad broker fault kinds, parameters, modes and close codes; with ``check_target``, a fault proxy
    that is unknown or does not answer as one (when the experiment touches the broker at all)."""
    from chaoslib import substitute

    from chaosaitrapp.broker.actions import MARKET_DATA_MODES
    from chaosaitrapp.broker.proxy.faults import CLOSE_CODES, INSTANT, FaultError, validate
    from chaosaitrapp.errors import ChaosAitrappError

    problems: List[str] = []
    touches = False
    for activity in activities(experiment):
        provider = activity.get("provider") or {}
        if not ours(activity) or provider.get("module") != "chaosaitrapp.broker.actions" \
                or provider.get("func") not in BROKER_FUNCS:
            continue
        touches = True
        name = activity.get("name", "?")
        args = substitute(dict(provider.get("arguments") or {}), configuration, secrets)
        func = provider.get("func")
        if func == "inject_broker_fault":
            kind = str(args.get("kind"))
            try:
                validate(kind, args.get("params"), 1 if kind in INSTANT else args.get("duration", 10) or 1)
            except FaultError as exc:
                problems.append(f"activity {name!r}: {exc}")
        elif func in ("break_market_data", "restore_market_data"):
            mode = args.get("mode", "close")
            if mode not in MARKET_DATA_MODES:
                problems.append(f"activity {name!r}: mode must be one of {', '.join(MARKET_DATA_MODES)}, got {mode!r}")
            code = args.get("code", 1006)
            if func == "break_market_data" and mode == "close" and code not in CLOSE_CODES:
                problems.append(f"activity {name!r}: close code must be one of {CLOSE_CODES}, got {code!r}")
    if touches and check_target:
        from chaosaitrapp.broker.client import ProxyClient

        try:
            ProxyClient.from_configuration(configuration).health()
        except ChaosAitrappError as exc:
            problems.append(f"the broker fault proxy: {exc}")
    return problems


def evidence_problems(experiment: Experiment) -> List[str]:
    """Bad ``checks``/``limits`` arguments of the evidence control and a bad ``$AITRAPP_CHECK_LIMITS``."""
    from chaosaitrapp.checks.registry import CHECKS
    from chaosaitrapp.deployment.timing import check_limit_overrides, limit_overrides_from_env
    from chaosaitrapp.errors import ConfigError

    problems: List[str] = []
    arguments = recorder.control_arguments(experiment, recorder.EVIDENCE_MODULE) or {}
    for key in ("checks", "extra_checks", "skip_checks"):
        names = arguments.get(key)
        if names is None:
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"the evidence control's {key!r} must be a list of checker names, got {names!r}")
            continue
        for unknown in [n for n in names if n not in CHECKS]:
            problems.append(f"the evidence control's {key!r} names no checker {unknown!r}; "
                            f"known: {', '.join(CHECKS)}")
    for where, load in (("the evidence control's 'limits'",
                         lambda: check_limit_overrides(arguments.get("limits") or {}, "the evidence control's 'limits'")),
                        ("AITRAPP_CHECK_LIMITS", limit_overrides_from_env)):
        try:
            load()
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
