"""The evidence control: records a drill and gives CI a verdict it can trust.

Declare it in an experiment's ``controls``::

    {"name": "aitrapp-evidence",
     "provider": {"type": "python", "module": "chaosaitrapp.controls.evidence",
                  "arguments": {"drill": "leader_lock"}}}

Before the experiment it starts the timeline sampler; during it, it notes steady-state and
activity failures (for ``abort_on_failure``) and phase events; after it (rollbacks included) it
stops the sampler, runs the drill's checkers on the timeline, judges the run
(:mod:`chaosaitrapp.evidence.verdict`), writes ``reports/chaos/<drill>_<timestamp>.log`` in the
seed's format, the HTML report, adds a ``chaosaitrapp`` entry to the journal's ``extensions``,
scrubs secrets from the journal, and sets the journal's status to ``failed`` on FAIL so that
``chaos run`` exits 1 (Chaos Toolkit alone exits 0 when the steady state fails before the method).

Chaos Toolkit swallows exceptions raised in controls: this control catches its own errors,
logs them at ERROR and turns them into FAIL reasons instead.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import re
import traceback
from pathlib import Path
from typing import Any, Dict, List

from chaoslib.types import Configuration, Experiment, Journal, Secrets

from chaosaitrapp.config import api_key, known_secrets, settings_from
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence import recorder
from chaosaitrapp.evidence.recorder import Run, record_event, record_failure
from chaosaitrapp.paths import reports_dir
from chaosaitrapp.redact import redact

logger = logging.getLogger("chaostoolkit")

DEFAULT_INTERVAL = 0.05
AITRAPP_TIMINGS = {"lock_ttl": 30.0, "refresh": 10.0, "backoff_max": 30.0}


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")[:40] or "drill"


def _guard(hook: str):
    """Run a hook, turning any exception into a recorded, logged control error."""

    def wrap(func):
        @functools.wraps(func)  # chaoslib passes state/configuration/secrets by the signature
        def inner(*args, **kwargs):
            try:
                return func(*args, **kwargs)
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


def timings_for_target(arguments: Dict[str, Any]) -> Dict[str, float]:
    """Lock timing of the target: the control's arguments, else the lab's (when one is up),
    else AITRAPP's production timing (TTL 30, refresh 10, backoff max 30)."""
    timings = dict(AITRAPP_TIMINGS)
    from chaosaitrapp.lab.state import load_state

    state = load_state()
    if state is not None:
        for key in timings:
            if isinstance(state.timings.get(key), (int, float)):
                timings[key] = float(state.timings[key])
    for key in timings:
        if isinstance(arguments.get(key), (int, float)):
            timings[key] = float(arguments[key])
    return timings


def limit_overrides_from_env() -> Dict[str, Any]:
    """Checker limits from ``$AITRAPP_CHECK_LIMITS`` (a JSON object such as ``{"detect_s": 15}``);
    ConfigError naming the variable when it is not one."""
    raw = os.environ.get("AITRAPP_CHECK_LIMITS")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"AITRAPP_CHECK_LIMITS must be a JSON object, got {raw[:60]!r}: {exc}")
    if not isinstance(value, dict):
        raise ConfigError(f"AITRAPP_CHECK_LIMITS must be a JSON object, got {raw[:60]!r}")
    return value


@_guard("before_experiment_control")
def before_experiment_control(context: Experiment, configuration: Configuration = None,
                              secrets: Secrets = None, **arguments: Any) -> None:
    """Begin the run: evidence paths, limits, and the timeline sampler."""
    from chaosaitrapp.checks.limits import Limits
    from chaosaitrapp.evidence.sampler import Sampler, target_observer
    from chaosaitrapp.trader.client import TraderClient

    drill = arguments.get("drill") or _slug(context.get("title", "drill"))
    run = recorder.begin_run(drill, Path(arguments.get("reports_dir") or reports_dir()),
                             secrets=known_secrets(secrets))
    settings = settings_from(configuration)
    interval = float(arguments.get("sample_interval", DEFAULT_INTERVAL))
    timings = timings_for_target(arguments)
    limits = Limits.defaults(timings["lock_ttl"], timings["refresh"], timings["backoff_max"],
                             settings.wait_ready_timeout, settings.heartbeat_max, interval=interval)
    overrides = dict(arguments.get("limits") if isinstance(arguments.get("limits"), dict) else {})
    overrides.update(limit_overrides_from_env())
    limits = Limits.from_dict(overrides, base=limits)
    run.limits = limits
    client = TraderClient(settings, api_key(secrets))
    meta = {"drill": drill, "run_id": run.run_id, "api": settings.api, "heartbeat_max": settings.heartbeat_max,
            "limits": limits.to_dict(), "timings": timings}
    run.sampler = Sampler(run.path(".timeline.jsonl"), target_observer(client), interval=interval,
                          meta=meta, secrets=run.secrets).start()
    record_event("phase", None, "steady_state_before")
    logger.info("chaosaitrapp: drill %s, evidence under %s*", drill, run.prefix)


@_guard("after_hypothesis_control")
def after_hypothesis_control(context: Dict[str, Any], state: Dict[str, Any] = None, **arguments: Any) -> None:
    """Note a steady state that was not met (for ``abort_on_failure``)."""
    if isinstance(state, dict) and state.get("steady_state_met") is False:
        record_failure(f"steady state not met: {context.get('title', '')}")


@_guard("before_method_control")
def before_method_control(context: Experiment, **arguments: Any) -> None:
    """Mark the method's start on the timeline."""
    record_event("phase", None, "method")


@_guard("after_method_control")
def after_method_control(context: Experiment, **arguments: Any) -> None:
    """Mark the method's end on the timeline."""
    record_event("phase", None, "steady_state_after")


@_guard("after_activity_control")
def after_activity_control(context: Dict[str, Any], state: Dict[str, Any] = None, **arguments: Any) -> None:
    """Note a failed activity (for ``abort_on_failure``)."""
    if isinstance(state, dict) and state.get("status") == "failed":
        record_failure(f"{context.get('name', '?')} failed")


@_guard("before_rollback_control")
def before_rollback_control(context: Experiment, **arguments: Any) -> None:
    """Mark the rollbacks' start on the timeline."""
    record_event("phase", None, "rollbacks")


@_guard("after_experiment_control")
def after_experiment_control(context: Experiment, state: Journal = None, configuration: Configuration = None,
                             secrets: Secrets = None, **arguments: Any) -> None:
    """Judge the run and write the evidence (see the module docstring)."""
    run = recorder.current_run()
    if run is None:  # before_experiment_control failed before it could begin a run
        drill = arguments.get("drill") or _slug(context.get("title", "drill"))
        run = recorder.begin_run(drill, Path(arguments.get("reports_dir") or reports_dir()),
                                 secrets=known_secrets(secrets))
        run.errors.append("the run was not recorded from its start (see the errors above)")
    try:
        extension = finish_run(run, state, arguments)
        abort_if_failed_late(extension, state, configuration, secrets)
    finally:
        recorder.end_run()


def abort_if_failed_late(extension: Dict[str, Any], journal: Journal, configuration: Configuration,
                         secrets: Secrets) -> None:
    """``PAUSE_ON_FAIL=1``: abort (pause, flatten, PAPER) a drill whose failure was only known after
    the rollbacks (a failed checker, a fault left in the ledger), which ``abort_on_failure`` in the
    rollbacks could not see. Does nothing when the rollbacks already aborted."""
    if extension.get("verdict") != "FAIL" or not settings_from(configuration).pause_on_fail:
        return
    for rollback in (journal or {}).get("rollbacks") or []:
        output = rollback.get("output")
        if isinstance(output, dict) and output.get("aborted") is True:
            return
    from chaosaitrapp.trader.actions import abort

    logger.warning("chaosaitrapp: PAUSE_ON_FAIL=1 and the drill failed after its rollbacks: aborting")
    try:
        extension["abort"] = abort("chaos drill failed its checks", configuration, secrets)
    except Exception as exc:  # reported, never swallowed
        extension["abort"] = {"error": str(exc)}
        logger.error("chaosaitrapp: the abort failed: %s", exc)


def finish_run(run: Run, journal: Journal, arguments: Dict[str, Any]) -> Dict[str, Any]:
    """Stop sampling, check, judge, write every evidence file and amend ``journal`` in place."""
    from chaosaitrapp.evidence.recorder import stamp
    from chaosaitrapp.evidence.seedlog import extra_fields, seed_fields, write_seed_log
    from chaosaitrapp.evidence.verdict import judge
    from chaosaitrapp.safety.faults import outstanding_for_run

    sampling = run.sampler.stop() if run.sampler is not None else None
    try:
        checks = run_drill_checks(run, arguments)
    except Exception as exc:
        checks = []
        run.errors.append(f"checks could not run: {type(exc).__name__}: {exc}")
    try:
        outstanding = outstanding_for_run(run.run_id)
    except Exception as exc:
        outstanding = 0
        run.errors.append(f"cannot read the fault ledger: {exc}")
    if isinstance(journal, dict) and journal.get("experiment", {}).get("dry"):
        run.errors.append("dry run: nothing was injected, so nothing can pass")
    verdict, reasons = judge(journal or {}, checks, run.errors + run.preflight, outstanding)
    fields = seed_fields(run.snapshots) + extra_fields(run.snapshots)
    for check in checks:
        fields.append((f"check_{check['name']}", check["status"]))
        if check.get("value") is not None:
            unit = "_s" if check["name"].startswith(("time_to", "total_")) else "_value"
            fields.append((check["name"] + unit, f"{check['value']:.3f}"))
    if sampling:
        fields += [("timeline_samples", str(sampling["samples"])), ("timeline_rate_hz", str(sampling["rate_hz"]))]
    fields += [("failure_reason", r.replace(",", ";")) for r in reasons]
    evidence = {"log": str(run.path(".log")), "timeline": str(run.path(".timeline.jsonl")),
                "journal": str(run.path(".journal.json"))}
    if arguments.get("report", True):
        evidence["report"] = str(run.path(".html"))
    for label in run.snapshots:
        evidence[f"metrics_{label}"] = str(run.path(f".metrics_{label}.prom"))
    extension = {"name": "chaosaitrapp", "drill": run.drill, "run_id": run.run_id, "verdict": verdict,
                 "reasons": reasons, "checks": checks, "seed_fields": dict(fields), "sampling": sampling,
                 "ctk_status": (journal or {}).get("status"), "evidence": evidence}
    journal = journal if isinstance(journal, dict) else {}
    journal.setdefault("extensions", []).append(extension)
    if arguments.get("report", True):
        try:
            write_report(run, redact(journal, run.secrets), evidence)
        except Exception as exc:  # a missing report is a failed drill, not a silent gap
            message = f"evidence control error: the HTML report could not be written: {type(exc).__name__}: {exc}"
            logger.error("chaosaitrapp: %s", message)
            verdict = extension["verdict"] = "FAIL"
            reasons.append(message)
            fields.append(("failure_reason", message.replace(",", ";")))
    if verdict == "FAIL":
        journal["status"] = "failed"
    write_seed_log(run.path(".log"), run.drill, stamp(run.started_wall), redact(fields, run.secrets), verdict)
    scrubbed = redact(journal, run.secrets)
    journal.clear()
    journal.update(scrubbed)
    run.path(".journal.json").write_text(json.dumps(journal, indent=2, default=str))
    log = logger.info if verdict == "PASS" else logger.error
    log("chaosaitrapp: %s %s%s; evidence: %s", run.drill, verdict,
        f" ({reasons[0]})" if reasons else "", evidence["log"])
    return journal["extensions"][-1]  # the scrubbed entry the journal now holds


def run_drill_checks(run: Run, arguments: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The drill's checkers on its timeline, as dicts (an error becomes a control error)."""
    from chaosaitrapp.checks import DRILL_CHECKS, run_checks
    from chaosaitrapp.checks.timeline import load_timeline

    names = arguments.get("checks")
    if names is None:
        names = DRILL_CHECKS.get(run.drill, [])
    if not names:
        return []
    from chaosaitrapp.checks.limits import Limits

    timeline = load_timeline(run.path(".timeline.jsonl"))
    return [r.to_dict() for r in run_checks(timeline, run.limits or Limits.aitrapp(), list(names))]


def write_report(run: Run, journal: Journal, evidence: Dict[str, str]) -> str:
    """The self-contained HTML report beside the log, at ``evidence["report"]``."""
    from chaosaitrapp.report.html import write_drill_report

    write_drill_report(journal, run.path(".timeline.jsonl"), Path(evidence["report"]), secrets=run.secrets)
    return evidence["report"]
