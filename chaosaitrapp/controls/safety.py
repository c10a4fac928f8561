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
4. runs every fault family's own pre-flight over its activities (its offline part always, its online part
   when the target is checked: a dependency the method stops runs, the broker fault proxy answers, a TCP
   fault proxy serves the dependency...), and checks the API host is allowed (loopback by default) and
   the API answers.

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
from typing import Any, Callable, Dict, List, Optional

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Secrets

from chaosaitrapp import registry
from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.config import known_secrets, settings_from
from chaosaitrapp.controls import arguments as checks
from chaosaitrapp.controls.configuration import configuration_problems
from chaosaitrapp.controls.inference import breaks_steady_state
from chaosaitrapp.controls.runtime import (
    note_activity,
    note_phase,
    prepare_deployment,
    prepare_experiment,
    rollback_note,
    skip_rollbacks_if_nothing_ran,
    strategies,
    watch_strategies,
)
from chaosaitrapp.declare import NotApplicable
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.evidence import recorder
from chaosaitrapp.paths import ledger_path
from chaosaitrapp.safety.cleanup import cleanup, format_result
from chaosaitrapp.safety.ledger import Ledger

logger = logging.getLogger("chaostoolkit")

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


def _strategy_problems(experiment: Experiment, configuration: Configuration, run: Any) -> List[str]:
    """A hypothesis strategy the drill cannot meet (refused), and the rollback strategy (noted)."""
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
    (not refusals) go to the run in progress. ``check_target`` False: only what needs no target (the
    offline part: configuration, arguments, each family's offline checks, the evidence control's)."""
    run = recorder.current_run()
    problems, notes = configuration_problems(experiment, configuration)
    for note in notes:
        if run is not None:
            run.note(note)
    try:
        settings = settings_from(configuration)
    except ChaosAitrappError as exc:
        return problems + [f"configuration: {exc}"]
    problems += checks.argument_problems(experiment, configuration, secrets)
    problems += checks.family_problems(experiment, configuration, secrets, online=check_target)
    problems += checks.evidence_problems(experiment)
    problems += _strategy_problems(experiment, configuration, run)
    try:
        client = TraderClient(settings)
        if check_target:
            client.json("GET", "/health")
    except ChaosAitrappError as exc:
        problems.append(str(exc))
    return problems


def _undo_leftovers() -> List[str]:
    """Undo the stale faults of the ledger (dead run or expired lease), then each family's leftovers that no
    ledger entry stands for (:attr:`chaosaitrapp.declare.Family.sweep`); problems for those that stay."""
    problems = []
    for item in cleanup(Ledger(ledger_path()), only_expired=True):
        if item["status"] == "undone":
            logger.warning("chaosaitrapp: undid a fault left by an earlier run: %s", format_result(item))
        elif item["status"] == "failed":
            problems.append(f"a fault left by an earlier run could not be undone: {format_result(item)}")
    for _, sweep in registry.hooks("sweep"):
        problems += sweep()
    return problems


def run_preflight(experiment: Experiment, configuration: Configuration = None, secrets: Secrets = None,
                  meanwhile: Optional[Callable[[], None]] = None) -> None:
    """The pre-flight, once per run (whichever of our controls calls it first): leftovers undone,
    :func:`preflight` checked; raises ``InterruptExecution`` (nothing injected) when it refuses.
    ``meanwhile``: called once the leftovers are undone, before the checks that reach the target, to start
    reading work of its own in the background (the evidence control's learning of the lock timing); not
    called when this run's pre-flight was already done."""
    run = recorder.ensure_run(experiment, known_secrets(secrets))
    if run.preflight_done:
        if run.refused:
            raise InterruptExecution("chaosaitrapp pre-flight refused the drill: " +
                                     "; ".join(run.preflight + run.not_applicable))
        return
    run.preflight_done = True
    prepare_experiment(experiment)
    prepare_deployment(configuration, secrets)
    try:
        problems = [f"the deployment description: {run.deployment_error}"] if run.deployment_error else []
        problems += _undo_leftovers()
        if meanwhile is not None and not problems:
            meanwhile()
        problems += preflight(experiment, configuration, secrets)
    except Exception as exc:  # a broken pre-flight is itself a reason not to inject
        problems = [f"pre-flight could not run: {type(exc).__name__}: {exc}"]
    if problems:
        run.preflight.extend(f"pre-flight refused: {p}" for p in problems if not isinstance(p, NotApplicable))
        run.not_applicable.extend(f"not applicable: {p}" for p in problems if isinstance(p, NotApplicable))
        for problem in problems:
            logger.error("chaosaitrapp pre-flight: %s%s", "not applicable: " if isinstance(problem, NotApplicable)
                         else "", problem)
        raise InterruptExecution("chaosaitrapp pre-flight refused the drill: " + "; ".join(problems))


def configure_control(experiment: Experiment = None, configuration: Configuration = None,
                      secrets: Secrets = None, event_registry: Any = None, **arguments: Any) -> None:
    """Begin the run's record, apply the deployment description and watch Chaos Toolkit's effective strategies."""
    if experiment is not None:
        recorder.ensure_run(experiment, known_secrets(secrets))
        prepare_deployment(configuration, secrets)
    watch_strategies(event_registry)


def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **arguments: Any) -> None:
    """Note SIGTERMs from now on, then the pre-flight (:func:`run_preflight`): raises
    ``InterruptExecution`` when it refuses the drill."""
    _reset_sigterm_state()
    install_sigterm_note()
    run_preflight(context, configuration, secrets)


def before_method_control(context: Experiment, **arguments: Any) -> None:
    """Note that the method began (from here on the drill may act on the target)."""
    note_phase("method")


def before_activity_control(context: Dict[str, Any], **arguments: Any) -> None:
    """Start no activity once a SIGTERM was received (outside the rollbacks); note a method action of
    another extension (it may inject what this extension cannot see)."""
    _interrupt_if_terminated(f"before {context.get('name', '?')!r}" if isinstance(context, dict) else "")
    note_activity(context)


def after_activity_control(context: Dict[str, Any], state: Optional[Dict[str, Any]] = None,
                           **arguments: Any) -> None:
    """End the method after the activity a SIGTERM interrupted (outside the rollbacks)."""
    _interrupt_if_terminated(f"after {context.get('name', '?')!r}" if isinstance(context, dict) else "")


def before_rollback_control(context: Experiment, **arguments: Any) -> None:
    """From here on a SIGTERM no longer interrupts anything: the rollbacks must run to their end. A drill
    that acted on nothing (refused by the pre-flight, or its method never began) plays no rollback at all
    (:func:`chaosaitrapp.controls.runtime.skip_rollbacks_if_nothing_ran`)."""
    _SIGTERM["rollbacks"] = True
    skip_rollbacks_if_nothing_ran(context)
