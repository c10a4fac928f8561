"""The evidence control: records a drill and gives CI a verdict it can trust.

Declare it in an experiment's ``controls`` (with the safety control, in either order)::

    {"name": "aitrapp-evidence",
     "provider": {"type": "python", "module": "chaosaitrapp.controls.evidence"}}

Arguments, all optional:

- ``drill``: the drill's name in evidence file names (default: the experiment file's name, e.g.
  ``leader_lock`` for ``experiments/leader_lock.json``, else the title as a slug);
- ``checks``: the checker names that judge the drill, replacing the inferred ones; ``extra_checks``
  adds to them, ``skip_checks`` removes from them. By default the checks are *inferred* from the
  faults the method injects through this extension (:mod:`chaosaitrapp.controls.inference`): every
  drill gets the baseline (``sampling_rate``, ``health_stayed_up``, ``heartbeat_while_ready``,
  ``ready_while_not_leader``), a Redis stop adds the detection and recovery timings, a Postgres
  stop the recovery, an order burst ``queue_drained``. The checker names are listed in
  docs/activities.md and ``aitrapp-chaos docs``;
- ``limits``: overrides of the checkers' limits (``{"detect_s": 15, "recover_s": 60}``; keys of
  :class:`chaosaitrapp.checks.limits.Limits`), applied before ``$AITRAPP_CHECK_LIMITS``;
- ``sample_interval`` (0.05 s), ``reports_dir`` (``reports/chaos``), ``report`` (true: write the HTML).

Before the experiment it runs the pre-flight when the safety control is declared (so nothing is
recorded for a refused drill whichever control comes first), then starts the timeline sampler;
during it, it notes steady-state and activity failures (for ``abort_on_failure``) and phase events;
after it (rollbacks included) it stops the sampler, runs the checks on the timeline, judges the run
(:func:`chaosaitrapp.verdict.judge`), writes ``reports/chaos/<drill>_<timestamp>.log`` in the seed's
format, the HTML report, adds a ``chaosaitrapp`` entry to the journal's ``extensions``, scrubs
secrets from the journal, and sets the journal's status to ``failed`` on FAIL so that ``chaos run``
exits 1 (Chaos Toolkit alone exits 0 when the steady state fails before the method).

Chaos Toolkit swallows exceptions raised in controls: this control catches its own errors, logs
them at ERROR and turns them into FAIL reasons instead (a pre-flight refusal alone propagates).
"""
from __future__ import annotations

import atexit
import functools
import gc
import json
import logging
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from chaoslib.exceptions import InterruptExecution
from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaosaitrapp import registry
from chaosaitrapp.api.client import TraderClient, forget_reading, take_reading
from chaosaitrapp.checks import run_checks
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.timeline import load_timeline
from chaosaitrapp.config import api_key, flag, known_secrets, settings_from
from chaosaitrapp.controls.inference import checks_of
from chaosaitrapp.controls.reading import begin_reading, end_reading
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
from chaosaitrapp.controls.safety import run_preflight
from chaosaitrapp.controls.timing import learn_target_timing, sample_interval, settle_timing
from chaosaitrapp.evidence import recorder
from chaosaitrapp.evidence.observe import OBSERVED_PATHS
from chaosaitrapp.evidence.recorder import Run, record_event, record_failure, stamp
from chaosaitrapp.evidence.sampler import Sampler, SamplerPlan
from chaosaitrapp.evidence.seedlog import log_fields, write_seed_log
from chaosaitrapp.safety.faults import outstanding_for_run
from chaosaitrapp.scrub import install_log_filter, scrub_data
from chaosaitrapp.trader.actions import abort
from chaosaitrapp.verdict import checks_as_steady_state, judge

logger = logging.getLogger("chaostoolkit")


def _guard(hook: str):
    """Run a hook, turning any exception into a recorded, logged control error (a pre-flight
    refusal, ``InterruptExecution``, is let through: it must stop the run)."""

    def wrap(func):
        @functools.wraps(func)  # chaoslib passes state/configuration/secrets by the signature
        def inner(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except InterruptExecution:
                raise
            except Exception as exc:  # the control must never fail silently
                message = f"{hook}: {type(exc).__name__}: {exc}"
                logger.error("chaosaitrapp evidence control: %s", message)
                logger.debug(traceback.format_exc())
                run = recorder.current_run()
                if run is not None:
                    run.errors.append(message)
                if hook == "after_experiment_control" and isinstance(kwargs.get("state"), dict):
                    kwargs["state"]["status"] = "failed"
                return None

        return inner

    return wrap


def configure_control(experiment: Experiment = None, configuration: Configuration = None,
                      secrets: Secrets = None, event_registry: Any = None, **arguments: Any) -> None:
    """Begin the run's record (drill name, evidence folder), apply the deployment description and watch
    Chaos Toolkit's strategies."""
    if experiment is not None:
        recorder.ensure_run(experiment, known_secrets(secrets)).recording = True
        prepare_deployment(configuration, secrets)
    watch_strategies(event_registry)


def drill_checks(experiment: Experiment, configuration: Configuration, arguments: Dict[str, Any]) -> List[str]:
    """The checker names that judge this drill: the ``checks`` argument, else those inferred from
    the experiment's faults; plus ``extra_checks``, minus ``skip_checks``."""
    names = list(arguments["checks"]) if isinstance(arguments.get("checks"), list) \
        else checks_of(experiment, configuration)
    for name in arguments.get("extra_checks") or []:
        if name not in names:
            names.append(name)
    skipped = set(arguments.get("skip_checks") or [])
    return [n for n in names if n not in skipped]


@_guard("before_experiment_control")
def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **arguments: Any) -> None:
    """Begin the run: pre-flight (when the safety control is declared), limits, checks, the sampler (as
    each fault family of the drill plans it: :attr:`chaosaitrapp.declare.Family.sampler`)."""
    run = recorder.ensure_run(context, known_secrets(secrets))
    run.recording = True
    forget_reading()  # none of an earlier run in this process
    prepare_deployment(configuration, secrets)
    run.secrets = known_secrets(secrets)
    install_log_filter(run.secrets)
    prepare_experiment(context)
    run.strategies = strategies(context)
    note = rollback_note(run.strategies["rollbacks"])
    if note:
        run.note(note)
    learning: List[Any] = []

    def begin_learning() -> None:
        try:
            learning.append(learn_target_timing(run, context, configuration, secrets))
        except Exception:  # noqa: BLE001 - started again after the pre-flight, where its error is reported
            pass

    if recorder.control_arguments(context, recorder.SAFETY_MODULE) is not None:
        run_preflight(context, configuration, secrets, meanwhile=begin_learning)
    run.timing_pending = learning[0] if learning else learn_target_timing(run, context, configuration, secrets)
    settings = settings_from(configuration)
    run.wait_ready_timeout = settings.wait_ready_timeout
    run.control_arguments = dict(arguments)
    run.checks = drill_checks(context, configuration, arguments)
    client = TraderClient(settings, api_key(secrets))
    run.target = client
    plan = SamplerPlan(client, meta={"drill": run.drill, "run_id": run.run_id, "api": settings.api,
                                     "heartbeat_max": settings.heartbeat_max, "checks": run.checks})
    for _, adjust in registry.hooks("sampler", run.fault_kinds):
        plan = adjust(plan, configuration, secrets)
    run.sampler = Sampler(run.path(".timeline.jsonl"), plan.observer(), interval=sample_interval(arguments),
                          meta=plan.meta, secrets=run.secrets).start()
    record_event("phase", None, "steady_state_before")
    logger.info("chaosaitrapp: drill %s, checks %s, evidence under %s*", run.drill, ", ".join(run.checks),
                run.prefix)


#: What a steady state reads of the target (:func:`before_hypothesis_control` reads them at once): what a
#: snapshot reads.
STEADY_STATE_READS = OBSERVED_PATHS


@_guard("before_hypothesis_control")
def before_hypothesis_control(context: Dict[str, Any], configuration: Configuration = None,
                              secrets: Secrets = None, **arguments: Any) -> None:
    """Read the target's /ready, /health, /state and /metrics at once, for this steady state's probes
    (:func:`chaosaitrapp.api.client.take_reading`): judged on one reading, in the time of one answer. A read
    that fails is held as its error (the probe that needs it fails as it would have). Not in a dry run."""
    run = recorder.current_run()
    if run is not None and run.dry:
        return
    take_reading(TraderClient.from_configuration(configuration, secrets), STEADY_STATE_READS)


@_guard("after_hypothesis_control")
def after_hypothesis_control(context: Dict[str, Any], state: Dict[str, Any] = None, **arguments: Any) -> None:
    """Note a steady state that was not met (for ``abort_on_failure``). Its reading stays current for a probe
    that follows at once (the method's first snapshot), until an action or a newer read."""
    if isinstance(state, dict) and state.get("steady_state_met") is False:
        record_failure(f"steady state not met: {context.get('title', '')}")


@_guard("before_method_control")
def before_method_control(context: Experiment, **arguments: Any) -> None:
    """Mark the method's start on the timeline; import what only the run's end uses meanwhile
    (:func:`chaosaitrapp.registry.prefetch`)."""
    note_phase("method")
    record_event("phase", None, "method")
    registry.prefetch(("chaosaitrapp.report.html",), ("evidence", "shading"))


@_guard("before_activity_control")
def before_activity_control(context: Dict[str, Any], configuration: Configuration = None,
                            secrets: Secrets = None, **arguments: Any) -> None:
    """Before an action (it may inject a fault, which would cut the learning short), wait for the target's
    timing (:func:`settle_timing`; probes before it, a snapshot, run meanwhile); note a method action of
    another extension (it may inject what this extension cannot see). Begin the activity's use of the current
    reading (:func:`chaosaitrapp.controls.reading.begin_reading`)."""
    run = recorder.current_run()
    if run is not None and isinstance(context, dict) and context.get("type") == "action":
        settle_timing(run, configuration)
    note_activity(context)
    begin_reading(run, context, configuration, secrets)


@_guard("after_method_control")
def after_method_control(context: Experiment, **arguments: Any) -> None:
    """Mark the method's end on the timeline."""
    record_event("phase", None, "steady_state_after")


@_guard("after_activity_control")
def after_activity_control(context: Dict[str, Any], state: Dict[str, Any] = None, **arguments: Any) -> None:
    """Note a failed activity (for ``abort_on_failure``); a pause after it ends the current reading."""
    end_reading(context)
    if isinstance(state, dict) and state.get("status") == "failed":
        record_failure(f"{context.get('name', '?')} failed")


@_guard("before_rollback_control")
def before_rollback_control(context: Experiment, **arguments: Any) -> None:
    """Mark the rollbacks' start on the timeline; a drill that acted on nothing plays none
    (:func:`chaosaitrapp.controls.runtime.skip_rollbacks_if_nothing_ran`)."""
    if not skip_rollbacks_if_nothing_ran(context) and context.get("rollbacks"):
        record_event("phase", None, "rollbacks")


@_guard("after_experiment_control")
def after_experiment_control(context: Experiment, state: Journal = None, configuration: Configuration = None,
                             secrets: Secrets = None, **arguments: Any) -> None:
    """Judge the run and write the evidence (see the module docstring)."""
    run = recorder.ensure_run(context, known_secrets(secrets))
    run.recording = True
    if run.sampler is None and not run.refused and not run.errors and not run.dry:
        run.errors.append("the run was not recorded from its start: the evidence control's before-experiment "
                          "hook did not run (see the errors above)")
    try:
        finish_run(run, state, arguments, configuration, secrets)
    finally:
        forget_reading()
        recorder.end_run()
        skip_final_collection()


def skip_final_collection() -> None:
    """Have the interpreter's exit skip its last garbage collection of what exists now (``gc.freeze`` at exit,
    registered once): the drill's objects go with the process, and ``chaos run`` ends about 0.1 s sooner
    (``bench/drill_speed.py``). Files and logs are closed and flushed explicitly before it, never by a
    collector."""
    if not getattr(skip_final_collection, "registered", False):
        atexit.register(gc.freeze)
        skip_final_collection.registered = True  # type: ignore[attr-defined]


def abort_if_failed_late(run: Run, verdict: str, journal: Journal, configuration: Configuration,
                         secrets: Secrets) -> Optional[Dict[str, Any]]:
    """``PAUSE_ON_FAIL=1``: abort (pause, flatten, PAPER) a drill whose failure was only known after
    the rollbacks (a failed checker, a fault left in the ledger), which ``abort_on_failure`` in the
    rollbacks could not see. Returns what was done (``{"done": steps}``, ``{"skipped": why}``,
    ``{"error": ...}``; the rollbacks' own abort when they aborted), or None when no abort was called for
    (the drill did not fail, or ``PAUSE_ON_FAIL`` is unset). A drill that injected nothing is never aborted:
    the target is left as it was."""
    if verdict != "FAIL" or not flag(configuration, "pause_on_fail"):
        return None
    if not run.injected:
        return {"skipped": "nothing was injected: the target is left as it was"}
    for rollback in (journal or {}).get("rollbacks") or []:
        output = rollback.get("output")
        if isinstance(output, dict) and output.get("aborted") is True:
            return {"done": output.get("steps"), "by": "rollback"}
    logger.warning("chaosaitrapp: PAUSE_ON_FAIL=1 and the drill failed after its rollbacks: aborting")
    try:
        return {"done": abort("chaos drill failed its checks", configuration, secrets)}
    except Exception as exc:  # reported, never swallowed
        logger.error("chaosaitrapp: the abort failed: %s", exc)
        return {"error": str(exc)}


def run_drill_checks(run: Run) -> List[Dict[str, Any]]:
    """The drill's checks on its timeline, as dicts; none when nothing was sampled (a refused or dry run)."""
    if run.sampler is None or not run.checks or run.dry:
        return []
    timeline = load_timeline(run.path(".timeline.jsonl"))
    return [r.to_dict() for r in run_checks(timeline, run.limits or Limits.aitrapp(), run.checks,
                                            registry.checkers())]


def gather_family_evidence(run: Run, configuration: Configuration, secrets: Secrets) -> Tuple[Dict[str, Any],
                                                                                              Dict[str, str]]:
    """Each family's evidence after the run (:attr:`chaosaitrapp.declare.Family.evidence`, in registry order:
    the broker's history before the split-brain history drawn from it): ``({family: summary}, {label:
    path})``. A family that cannot gather its evidence is an error of the run, never a silent gap."""
    summaries: Dict[str, Any] = {}
    files: Dict[str, str] = {}
    for family, gather in registry.hooks("evidence"):
        try:
            result = gather(run, configuration, secrets)
        except Exception as exc:  # noqa: BLE001 - reported as a control error: the drill fails, naming it
            run.errors.append(f"{family.name} evidence could not be gathered: {type(exc).__name__}: {exc}")
            continue
        if result is None:
            continue
        files.update(result.pop("files", {}))
        for error in result.get("errors") or []:
            run.note(f"{family.name} evidence incomplete: {error}")
        if result:
            summaries[family.name] = result
    return summaries, files


def finish_run(run: Run, journal: Journal, arguments: Dict[str, Any], configuration: Configuration = None,
               secrets: Secrets = None) -> Dict[str, Any]:
    """Stop sampling, gather each family's evidence, check, judge, write every evidence file and amend
    ``journal`` in place."""
    try:
        settle_timing(run, configuration)
    except Exception as exc:
        run.errors.append(f"the target's timing could not be settled: {type(exc).__name__}: {exc}")
    sampling = run.sampler.stop() if run.sampler is not None else None
    gathered: Dict[str, Any] = {}
    files: Dict[str, str] = {}
    if sampling is not None and not run.dry:
        gathered, files = gather_family_evidence(run, configuration, secrets)
    try:
        checks = run_drill_checks(run)
    except Exception as exc:
        checks = []
        run.errors.append(f"checks could not run: {type(exc).__name__}: {exc}")
    try:
        outstanding = outstanding_for_run(run.run_id)
    except Exception as exc:
        outstanding = 0
        run.errors.append(f"cannot read the fault ledger: {exc}")
    verdict, reasons = judge(journal or {}, checks, run.errors, outstanding, run.preflight, dry=run.dry,
                             not_applicable=run.not_applicable)
    evidence = {"log": str(run.path(".log")), "journal": str(run.path(".journal.json"))}
    if sampling is not None:
        evidence["timeline"] = str(run.path(".timeline.jsonl"))
    evidence.update(files)
    if arguments.get("report", True):
        evidence["report"] = str(run.path(".html"))
    for label in run.snapshots:
        evidence[f"metrics_{label}"] = str(run.path(f".metrics_{label}.prom"))
    extension = {"name": "chaosaitrapp", "drill": run.drill, "run_id": run.run_id, "verdict": verdict,
                 "reasons": reasons, "checks": checks, "notes": list(run.notes), "strategies": dict(run.strategies),
                 "sampling": sampling, "broker": gathered.pop("broker", None), **gathered,
                 "ctk_status": (journal or {}).get("status"), "evidence": evidence}
    journal = journal if isinstance(journal, dict) else {}
    journal.setdefault("extensions", []).append(extension)
    extension["seed_fields"] = dict(log_fields(run, checks, sampling, reasons))
    if arguments.get("report", True):
        from chaosaitrapp.report.html import write_drill_report  # noqa: PLC0415 - imported during the method

        try:
            write_drill_report(scrub_data(journal, run.secrets), evidence.get("timeline"),
                               Path(evidence["report"]), secrets=run.secrets)
        except Exception as exc:  # a missing report is a failed drill, not a silent gap
            message = f"evidence control error: the HTML report could not be written: {type(exc).__name__}: {exc}"
            logger.error("chaosaitrapp: %s", message)
            verdict = extension["verdict"] = "FAIL"
            reasons.append(message)
            extension["seed_fields"] = dict(log_fields(run, checks, sampling, reasons))
    during = checks_as_steady_state(checks, str(journal.get("start") or ""), str(journal.get("end") or ""))
    if during is not None and verdict in ("PASS", "FAIL"):
        states = journal.get("steady_states")
        if not isinstance(states, dict):
            states = journal["steady_states"] = {}
        states["during"] = [*(states.get("during") or []), during]
    if verdict == "FAIL":
        journal["status"] = "failed"
    run.abort = abort_if_failed_late(run, verdict, journal, configuration, secrets)
    if run.abort is not None:
        extension["abort"] = run.abort
    extension["refused"] = run.refused
    extension["not_applicable"] = list(run.not_applicable)
    extension["injected"] = run.injected
    extension["seed_fields"] = dict(log_fields(run, checks, sampling, reasons))
    write_seed_log(run.path(".log"), run.drill, stamp(run.started_wall),
                   scrub_data(log_fields(run, checks, sampling, reasons), run.secrets), verdict)
    scrubbed = scrub_data(journal, run.secrets)
    journal.clear()
    journal.update(scrubbed)
    run.path(".journal.json").write_text(json.dumps(journal, indent=2, default=str))
    log = logger.error if verdict == "FAIL" else logger.info
    log("chaosaitrapp: %s %s%s; evidence: %s", run.drill, verdict,
        f" ({reasons[0]})" if reasons else "", evidence["log"])
    return journal["extensions"][-1]  # the scrubbed entry the journal now holds

