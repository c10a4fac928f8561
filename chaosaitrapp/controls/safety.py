"""The safety control: nothing is injected until the drill is known to be safe and well-formed.

Declare it with the evidence control, in either order (the evidence is the same)::

    {"name": "aitrapp-safety", "provider": {"type": "python", "module": "chaosaitrapp.controls.safety"}}

The pre-flight (:func:`run_preflight`) runs once per drill, before anything is sampled or injected,
from whichever of our two controls comes first. It

1. undoes the faults a dead or expired earlier run left in the ledger, and only those: a fault of
   another drill running at this moment (its run alive, its lease running) is left alone; a leftover
   that cannot be undone refuses the drill;
2. checks the experiment's configuration (typos of our keys get a "did you mean", unresolved
   ``${name}`` references are refused), every argument this extension understands (durations,
   target schemes, dependency names, burst sizes, broker fault kinds and parameters, market-data
   modes and close codes), the evidence control's ``checks`` and ``limits`` and
   ``$AITRAPP_CHECK_LIMITS``;
3. checks the run's strategies: a ``continuously``/``during-method`` hypothesis strategy is refused
   when the method breaks the steady state on purpose (it would deviate by design); a rollback
   strategy other than ``always`` is noted (rollbacks would be skipped on Ctrl-C/SIGTERM, the ledger
   and its watchdog still undo the fault within the lease);
4. checks the API host is allowed (loopback by default) and the API answers, every dependency
   the method stops exists and runs, and the broker fault proxy answers when the drill uses it.

Any problem interrupts the run with a message naming the bad value, so nothing is injected.

It also makes SIGTERM stop the drill. Chaos Toolkit turns SIGTERM into an ``InterruptExecution``
raised wherever the main thread is; inside a python activity (where a drill spends nearly all its
time) chaoslib catches it as an ordinary failure of that activity and plays the rest of the method
on, injecting further faults after it was told to stop, and a control's own exception guard
swallows it too. This control notes the SIGTERM (it wraps chaoslib's handler) and raises
``InterruptExecution`` from its activity hooks: after the activity the signal interrupted, or before
the next one starts. The run is then ``interrupted`` and the rollbacks play (the experiments use the
``always`` strategy). Once the rollbacks have begun it never interrupts them.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Dict, Iterable, List, Optional

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from chaosaitrapp.config import known_secrets
from chaosaitrapp.controls.runtime import prepare_experiment, rollback_note, strategies, watch_strategies
from chaosaitrapp.evidence import recorder

logger = logging.getLogger("chaostoolkit")

DURATION_ARGS = ("timeout", "lease", "interval", "duration", "stable_for")
CONTINUOUS = ("continuously", "during-method")

# SIGTERM bookkeeping of the run in this process (one experiment per `chaos run`).
_SIGTERM = {"received": False, "raised": False, "rollbacks": False}


def _reset_sigterm_state() -> None:
    _SIGTERM.update(received=False, raised=False, rollbacks=False)


def install_sigterm_note() -> bool:
    """Wrap the current SIGTERM handler (chaoslib's, during `chaos run`) so a SIGTERM is noted
    before that handler runs; without a Python handler (and unless SIGTERM is ignored) the wrapper
    raises ``InterruptExecution`` itself. Returns False when it cannot be installed (not in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return False
    previous = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "_chaosaitrapp_note", False):
        return True

    def note_sigterm(signum: int, frame: Any) -> None:
        _SIGTERM["received"] = True
        if callable(previous):
            previous(signum, frame)  # chaoslib's raises InterruptExecution
        elif previous != signal.SIG_IGN:
            raise InterruptExecution("SIGTERM signal received")

    note_sigterm._chaosaitrapp_note = True  # type: ignore[attr-defined]
    signal.signal(signal.SIGTERM, note_sigterm)
    return True


def _interrupt_if_terminated(where: str) -> None:
    """Raise ``InterruptExecution`` once, outside the rollbacks, when a SIGTERM was noted."""
    if _SIGTERM["received"] and not _SIGTERM["raised"] and not _SIGTERM["rollbacks"]:
        _SIGTERM["raised"] = True
        logger.warning("chaosaitrapp: SIGTERM received, stopping the drill %s; the rollbacks follow", where)
        raise InterruptExecution(f"SIGTERM signal received: drill stopped {where}")


def _activities(experiment: Experiment) -> Iterable[Dict[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    yield from hypothesis.get("probes") or []
    yield from experiment.get("method") or []
    yield from experiment.get("rollbacks") or []


def _ours(activity: Dict[str, Any]) -> bool:
    provider = activity.get("provider") or {}
    return provider.get("type") == "python" and str(provider.get("module", "")).startswith("chaosaitrapp.")


def _argument_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets) -> List[str]:
    """Bad values in the arguments of this extension's activities (after ``${}`` substitution)."""
    from chaoslib import substitute

    problems: List[str] = []
    for activity in _activities(experiment):
        if not _ours(activity):
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


def _dependency_stops(experiment: Experiment, configuration: Configuration, secrets: Secrets,
                      problems: List[str]) -> List[Any]:
    """``(activity name, driver)`` of every dependency the method (or a rollback) acts on; bad
    dependency names and target strings are added to ``problems``."""
    from chaoslib import substitute

    from chaosaitrapp.dependencies.drivers import dependency_driver
    from chaosaitrapp.errors import ChaosAitrappError

    stops = []
    for activity in _activities(experiment):
        provider = activity.get("provider") or {}
        if not _ours(activity) or not str(provider.get("func", "")).endswith("_dependency"):
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


def _broker_problems(experiment: Experiment, configuration: Configuration, secrets: Secrets,
                     check_target: bool) -> List[str]:
    """Bad broker fault kinds, parameters, modes and close codes; with ``check_target``, a fault proxy
    that is unknown or does not answer as one (when the experiment touches the broker at all)."""
    from chaoslib import substitute

    from chaosaitrapp.broker.actions import MARKET_DATA_MODES
    from chaosaitrapp.broker.proxy.faults import CLOSE_CODES, INSTANT, FaultError, validate
    from chaosaitrapp.errors import ChaosAitrappError

    problems: List[str] = []
    touches = False
    for activity in _activities(experiment):
        provider = activity.get("provider") or {}
        if not _ours(activity) or provider.get("module") != "chaosaitrapp.broker.actions" \
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


def _evidence_problems(experiment: Experiment) -> List[str]:
    """Bad ``checks``/``limits`` arguments of the evidence control and a bad ``$AITRAPP_CHECK_LIMITS``."""
    from chaosaitrapp.checks.registry import CHECKS
    from chaosaitrapp.errors import ConfigError
    from chaosaitrapp.evidence.timings import check_limit_overrides, limit_overrides_from_env

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


def _strategy_problems(experiment: Experiment, configuration: Configuration, run: Any) -> List[str]:
    """A hypothesis strategy the drill cannot meet (refused), and the rollback strategy (noted)."""
    from chaosaitrapp.checks.inference import breaks_steady_state

    effective = strategies(experiment)
    if run is not None:
        run.strategies = dict(effective)
    problems = []
    breaking = breaks_steady_state(experiment, configuration)
    if effective["hypothesis"] in CONTINUOUS and breaking:
        problems.append(
            f"hypothesis strategy {effective['hypothesis']!r} cannot be met by this drill: its method breaks the "
            f"steady state on purpose ({', '.join(breaking)}), so a check during "
            "the method would deviate by design; run it with the default strategy (the timeline's checks judge "
            "the method), or use 'continuously' only for drills whose steady state must hold throughout")
    note = rollback_note(effective["rollbacks"])
    if note and run is not None:
        run.note(note)
        logger.warning("chaosaitrapp: %s", note)
    return problems


def preflight(experiment: Experiment, configuration: Configuration = None, secrets: Secrets = None,
              check_target: bool = True) -> List[str]:
    """Every problem that must stop the drill before it injects anything (empty when safe); notes
    (not refusals) go to the run in progress."""
    from chaosaitrapp.config import configuration_problems, settings_from
    from chaosaitrapp.errors import ChaosAitrappError
    from chaosaitrapp.trader.client import TraderClient

    run = recorder.current_run()
    problems, notes = configuration_problems(experiment, configuration)
    for note in notes:
        if run is not None:
            run.note(note)
    try:
        settings = settings_from(configuration)
    except ChaosAitrappError as exc:
        return problems + [f"configuration: {exc}"]
    problems += _argument_problems(experiment, configuration, secrets)
    stops = _dependency_stops(experiment, configuration, secrets, problems)
    problems += _broker_problems(experiment, configuration, secrets, check_target)
    problems += _evidence_problems(experiment)
    problems += _strategy_problems(experiment, configuration, run)
    try:
        client = TraderClient(settings)
        if check_target:
            client.json("GET", "/health")
    except ChaosAitrappError as exc:
        problems.append(str(exc))
    if check_target:
        for name, driver in stops:
            try:
                if not driver.is_running():
                    problems.append(f"activity {name!r}: {driver.describe()} is not running before the drill")
            except ChaosAitrappError as exc:
                problems.append(f"activity {name!r}: {exc}")
    return problems


def _undo_leftovers() -> List[str]:
    """Undo the stale faults of the ledger (dead run or expired lease); problems for those that stay."""
    from chaosaitrapp.paths import ledger_path
    from chaosaitrapp.safety.cleanup import cleanup, format_result
    from chaosaitrapp.safety.ledger import Ledger

    problems = []
    for item in cleanup(Ledger(ledger_path()), only_expired=True):
        if item["status"] == "undone":
            logger.warning("chaosaitrapp: undid a fault left by an earlier run: %s", format_result(item))
        elif item["status"] == "failed":
            problems.append(f"a fault left by an earlier run could not be undone: {format_result(item)}")
    return problems


def run_preflight(experiment: Experiment, configuration: Configuration = None, secrets: Secrets = None) -> None:
    """The pre-flight, once per run (whichever of our controls calls it first): leftovers undone,
    :func:`preflight` checked; raises ``InterruptExecution`` (nothing injected) when it refuses."""
    run = recorder.ensure_run(experiment, known_secrets(secrets))
    if run.preflight_done:
        if run.preflight:
            raise InterruptExecution("chaosaitrapp pre-flight refused the drill: " + "; ".join(run.preflight))
        return
    run.preflight_done = True
    prepare_experiment(experiment)
    try:
        problems = _undo_leftovers()
        problems += preflight(experiment, configuration, secrets)
    except Exception as exc:  # a broken pre-flight is itself a reason not to inject
        problems = [f"pre-flight could not run: {type(exc).__name__}: {exc}"]
    if problems:
        run.preflight.extend(f"pre-flight refused: {p}" for p in problems)
        for problem in problems:
            logger.error("chaosaitrapp pre-flight: %s", problem)
        raise InterruptExecution("chaosaitrapp pre-flight refused the drill: " + "; ".join(problems))


def configure_control(experiment: Experiment = None, configuration: Configuration = None,
                      secrets: Secrets = None, event_registry: Any = None, **arguments: Any) -> None:
    """Begin the run's record and watch Chaos Toolkit's effective strategies."""
    if experiment is not None:
        recorder.ensure_run(experiment, known_secrets(secrets))
    watch_strategies(event_registry)


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **arguments: Any) -> None:
    """Note SIGTERMs from now on, then the pre-flight (:func:`run_preflight`): raises
    ``InterruptExecution`` when it refuses the drill."""
    _reset_sigterm_state()
    install_sigterm_note()
    run_preflight(context, configuration, secrets)


def before_activity_control(context: Dict[str, Any], **arguments: Any) -> None:
    """Start no activity once a SIGTERM was received (outside the rollbacks)."""
    _interrupt_if_terminated(f"before {context.get('name', '?')!r}" if isinstance(context, dict) else "")


def after_activity_control(context: Dict[str, Any], state: Optional[Dict[str, Any]] = None,
                           **arguments: Any) -> None:
    """End the method after the activity a SIGTERM interrupted (outside the rollbacks)."""
    _interrupt_if_terminated(f"after {context.get('name', '?')!r}" if isinstance(context, dict) else "")


def before_rollback_control(context: Experiment, **arguments: Any) -> None:
    """From here on a SIGTERM no longer interrupts anything: the rollbacks must run to their end."""
    _SIGTERM["rollbacks"] = True
