"""What Chaos Toolkit runs a drill with, as our controls need to know it.

- The effective rollback and hypothesis strategies: ``chaos run --rollback-strategy`` and
  ``--hypothesis-strategy`` silently override the experiment's ``runtime``; controls are not told,
  but the run's event registry is (its ``running`` event carries the settings chaostoolkit built).
  :func:`watch_strategies` registers a handler from ``configure_control``; :func:`strategies` reads
  what it captured (``default`` for both when nothing was captured: chaoslib's own default).
- :func:`prepare_experiment`: fixes applied to the experiment before it runs (a probe tolerance
  without ``arguments`` crashes chaoslib with ``KeyError: 'arguments'``; we give it ``{}``).
- :func:`rollback_note`: what the evidence says when rollbacks do not run on an interrupt.
- :func:`prepare_deployment`: the deployment description's values written into the run's configuration
  and secrets (:mod:`chaosaitrapp.deployment.description`), once per run, by whichever control comes first.
- What the run has done so far, noted by whichever of our controls is declared (both call these, which
  are idempotent): :func:`note_phase` and :func:`note_activity`; :func:`skip_rollbacks_if_nothing_ran`:
  a drill refused by its pre-flight, or whose method never began, acts on nothing, not even through its
  rollbacks.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from chaoslib.run import RunEventHandler

from chaosaitrapp.deployment.description import apply as apply_description
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.evidence import recorder

_CAPTURED: Dict[str, str] = {}


def _handler_class():
    class StrategyWatcher(RunEventHandler):
        """Captures the runtime strategies from the ``running`` event."""

        def running(self, experiment, journal, configuration, secrets, schedule, settings) -> None:  # noqa: D401
            runtime = (settings or {}).get("runtime") or {}
            _CAPTURED["rollbacks"] = str((runtime.get("rollbacks") or {}).get("strategy") or "default")
            _CAPTURED["hypothesis"] = str((runtime.get("hypothesis") or {}).get("strategy") or "default")

    return StrategyWatcher


def watch_strategies(event_registry: Any) -> None:
    """Register (once per registry) the handler that captures the run's effective strategies."""
    if event_registry is None:
        return
    watcher = _handler_class()
    if any(type(h).__name__ == watcher.__name__ for h in getattr(event_registry, "handlers", [])):
        return
    _CAPTURED.clear()
    event_registry.register(watcher())


def strategies(experiment: Optional[Mapping[str, Any]] = None) -> Dict[str, str]:
    """``{"rollbacks", "hypothesis"}``: the strategies Chaos Toolkit runs with. Captured from the run
    when possible, else the experiment's ``runtime``, else ``default`` (chaoslib's default)."""
    runtime = (experiment or {}).get("runtime") or {}
    declared = {"rollbacks": str((runtime.get("rollbacks") or {}).get("strategy") or "default"),
                "hypothesis": str((runtime.get("hypothesis") or {}).get("strategy") or "default")}
    return {key: _CAPTURED.get(key, declared[key]) for key in declared}


def rollback_note(strategy: str) -> Optional[str]:
    """A sentence for the log, evidence and report when rollbacks do not run on an interrupt, else None."""
    if strategy == "always":
        return None
    return (f"rollbacks run with Chaos Toolkit's {strategy!r} strategy: on an interrupt (Ctrl-C, SIGTERM) they "
            "are skipped (add \"runtime\": {\"rollbacks\": {\"strategy\": \"always\"}} to the experiment or drop "
            "--rollback-strategy); the fault ledger's watchdog still undoes every fault within its lease")


def prepare_experiment(experiment: Dict[str, Any]) -> int:
    """Give every probe tolerance without ``arguments`` an empty one (chaoslib writes the probed
    value into it and crashes when it is missing); returns how many were fixed."""
    fixed = 0
    probes = list(((experiment.get("steady-state-hypothesis") or {}).get("probes")) or [])
    for probe in probes:
        tolerance = probe.get("tolerance") if isinstance(probe, dict) else None
        if isinstance(tolerance, dict) and tolerance.get("type") == "probe":
            provider = tolerance.get("provider")
            if isinstance(provider, dict) and not isinstance(provider.get("arguments"), dict):
                provider["arguments"] = {}
                fixed += 1
    return fixed


def note_phase(phase: str) -> None:
    """Note that the run entered ``phase`` (``method``, ``rollbacks``)."""
    run = recorder.current_run()
    if run is not None and phase == "method":
        run.method_started = True


def note_activity(context: Any) -> None:
    """Note a method action of another extension starting: it may inject something this extension cannot
    see, so the run counts as having acted on the target (:attr:`recorder.Run.injected`)."""
    run = recorder.current_run()
    if run is None or not run.method_started or not isinstance(context, dict) or context.get("type") != "action":
        return
    provider = context.get("provider") or {}
    if provider.get("type") == "python" and str(provider.get("module", "")).startswith("chaosaitrapp."):
        return
    run.foreign_actions.add(str(context.get("name")))


def skip_rollbacks_if_nothing_ran(experiment: Dict[str, Any]) -> bool:
    """Empty the experiment's rollbacks (before Chaos Toolkit reads them) when the drill acted on nothing:
    its pre-flight refused it, or its method never began (a steady state not met before it, an interrupt
    before it). Returns True when they were skipped; the run's evidence says why."""
    run = recorder.current_run()
    if run is None or not experiment.get("rollbacks"):
        return False
    if run.refused:
        why = "the pre-flight refused the drill"
    elif not run.method_started:
        why = "the method never began"
    else:
        return False
    experiment["rollbacks"] = []
    run.note(f"rollbacks skipped: {why}, so nothing was injected and nothing is rolled back, waited for or aborted")
    return True


def prepare_deployment(configuration: Optional[Dict[str, Any]], secrets: Optional[Dict[str, Any]]) -> None:
    """Apply the deployment description to this run's ``configuration`` and ``secrets`` (in place), once; a
    description that cannot be used is kept as ``deployment_error`` for the pre-flight to refuse the drill."""
    run = recorder.current_run()
    if run is None or run.deployment is not None or run.deployment_error is not None:
        return
    try:
        run.deployment = apply_description(configuration, secrets)
    except ChaosAitrappError as exc:
        run.deployment_error = str(exc)
        return
    run.note(run.deployment.summary())
