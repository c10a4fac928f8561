"""The safety control: nothing is injected until the drill is known to be safe and well-formed.

Before the experiment it (1) undoes every fault a killed earlier run left in the ledger
(``aitrapp-chaos cleanup``), (2) validates the configuration and every activity's arguments
that this extension understands (durations, target schemes, dependency names, burst sizes),
(3) checks the API host is allowed (loopback by default) and the API answers, and (4) checks
every dependency the method will stop exists and runs. Any failure interrupts the run with a
message naming the bad value, before the method, so nothing is injected.

It also makes SIGTERM stop the drill. Chaos Toolkit turns SIGTERM into an ``InterruptExecution``
raised wherever the main thread is; inside a python activity (where a drill spends nearly all
its time) chaoslib catches it as an ordinary failure of that activity and plays the rest of the
method on, injecting further faults after it was told to stop, and a control's own exception
guard swallows it too. This control notes the SIGTERM (it wraps chaoslib's handler) and raises
``InterruptExecution`` from its activity hooks: after the activity the signal interrupted, or
before the next one starts. The run is then ``interrupted`` and the rollbacks play (the
experiments use the ``always`` strategy). Once the rollbacks have begun it never interrupts
them: a rollback must run to its end.

Declare it after the evidence control::

    {"name": "aitrapp-safety", "provider": {"type": "python", "module": "chaosaitrapp.controls.safety"}}
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Dict, Iterable, List, Optional

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from chaosaitrapp.evidence import recorder

logger = logging.getLogger("chaostoolkit")

DURATION_ARGS = ("timeout", "lease", "interval")

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


def preflight(experiment: Experiment, configuration: Configuration = None, secrets: Secrets = None,
              check_target: bool = True) -> List[str]:
    """Every problem that must stop the drill before it injects anything (empty when safe)."""
    from chaoslib import substitute

    from chaosaitrapp.config import settings_from
    from chaosaitrapp.dependencies.drivers import dependency_driver
    from chaosaitrapp.errors import ChaosAitrappError
    from chaosaitrapp.trader.client import TraderClient

    problems: List[str] = []
    try:
        settings = settings_from(configuration)
    except ChaosAitrappError as exc:
        return [f"configuration: {exc}"]
    stops = []
    for activity in _activities(experiment):
        if not _ours(activity):
            continue
        name = activity.get("name", "?")
        args = substitute(dict((activity.get("provider") or {}).get("arguments") or {}), configuration, secrets)
        for key in DURATION_ARGS:
            if key in args:
                value = args[key]
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    problems.append(f"activity {name!r}: {key} must be a non-negative number of seconds, got {value!r}")
        for key in ("count", "rate"):
            if key in args and (not isinstance(args[key], (int, float)) or args[key] <= 0):
                problems.append(f"activity {name!r}: {key} must be a positive number, got {args[key]!r}")
        if "dependency" in args or (activity.get("provider") or {}).get("func", "").endswith("_dependency"):
            try:
                driver = dependency_driver(args.get("dependency", "redis"), args.get("target", ""), configuration)
            except ChaosAitrappError as exc:
                problems.append(f"activity {name!r}: {exc}")
                continue
            if activity.get("type") == "action" and (activity.get("provider") or {}).get("func") == "stop_dependency":
                stops.append((name, driver))
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


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **arguments: Any) -> None:
    """Clean up leftovers, then refuse to start (InterruptExecution) if the pre-flight finds problems."""
    _reset_sigterm_state()
    install_sigterm_note()
    try:
        from chaosaitrapp.paths import ledger_path
        from chaosaitrapp.safety.cleanup import cleanup
        from chaosaitrapp.safety.ledger import Ledger

        undone = cleanup(Ledger(ledger_path()))
        for item in undone:
            logger.warning("chaosaitrapp: undid a fault left by an earlier run: %s", item)
        problems = preflight(context, configuration, secrets, check_target=not context.get("dry"))
    except Exception as exc:  # a broken pre-flight is itself a reason not to inject
        problems = [f"pre-flight could not run: {type(exc).__name__}: {exc}"]
    if problems:
        run = recorder.current_run()
        if run is not None:
            run.preflight.extend(f"pre-flight refused: {p}" for p in problems)
        for problem in problems:
            logger.error("chaosaitrapp pre-flight: %s", problem)
        raise InterruptExecution("chaosaitrapp pre-flight refused the drill: " + "; ".join(problems))


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
