"""The campaign's actions: play a schedule against the target while orders flow (:func:`run_campaign`), and
undo whatever a campaign may have left (:func:`undo_campaign`, its rollback).

Every fault is injected and ended by its own family's actions (:mod:`chaosaitrapp.campaign.catalogue`), so each
goes through the fault ledger with its lease and watchdog, as in its own drill. The timeline gets a
``campaign_fault`` event when each fault begins (``phase`` ``start``) and once it is undone (``end``), and a
``campaign_ended`` event with what the ledger still holds for the run.
"""

import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp import registry
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.campaign.catalogue import BY_NAME
from chaosaitrapp.campaign.schedule import Fault, Schedule, load_schedule
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.evidence.recorder import current_run, record_event
from chaosaitrapp.safety.faults import outstanding_for_run
from chaosaitrapp.safety.guards import require_paper_only

__all__ = ["run_campaign", "undo_campaign"]

#: The largest burst of the order flow (the orders family's bound on one burst).
BURST = 1000

#: How long an interrupted campaign waits for its faults' own restores before it lets the rollback finish.
INTERRUPT_GRACE_S = 60.0


def read_schedule(schedule: str) -> Schedule:
    """The schedule in file ``schedule``; ConfigError naming the file when it cannot be read or is unsound."""
    try:
        text = Path(schedule).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"campaign schedule {schedule}: {exc.strerror or exc}", key="schedule") from None
    return load_schedule(text, f"campaign schedule {schedule}")


def require_paper_target(configuration: Configuration, secrets: Secrets) -> None:
    """GuardRefused unless the trader reports PAPER mode: a campaign never runs against LIVE trading
    (``AITRAPP_ALLOW_LIVE`` does not change that)."""
    require_paper_only(configuration, secrets, "the campaign", "a campaign", "run a campaign")


def _call(ref: str, arguments: Dict[str, Any], configuration: Configuration, secrets: Secrets) -> Any:
    return registry.resolve(ref)(**arguments, configuration=configuration, secrets=secrets)


def _play(fault: Fault, origin: float, stop: threading.Event, out: Dict[str, Any], configuration: Configuration,
          secrets: Secrets) -> None:
    """One fault: wait for its start, inject it, hold it, end it (at once when ``stop`` is set)."""
    spec = BY_NAME[fault.kind]
    if stop.wait(max(0.0, origin + fault.start - time.monotonic())):
        out["skipped"] = "the campaign was interrupted before it began"
        return
    marks = {"fault": fault.id, "fault_kind": fault.kind, "family": spec.family, "planned_start": fault.start,
             "planned_seconds": fault.seconds, "resources": list(spec.resources)}
    record_event("campaign_fault", fault.kind, f"{fault.id} {fault.kind} on for {fault.seconds:g}s", phase="start",
                 **marks)
    out["started_s"] = round(time.monotonic() - origin, 3)
    try:
        _call(spec.inject, spec.inject_args(fault.seconds), configuration, secrets)
        out["injected_s"] = round(time.monotonic() - origin, 3)
    except Exception as exc:  # noqa: BLE001 - reported on the timeline and by the action; the restore still runs
        out["error"] = f"{fault.id} ({fault.kind}) could not be injected: {exc}"
    stop.wait(max(0.0, origin + fault.end - time.monotonic()))
    if spec.restore:
        try:
            _call(spec.restore, dict(spec.restore_args), configuration, secrets)
        except Exception as exc:  # noqa: BLE001 - the rollback undoes it; the run fails
            out.setdefault("error", f"{fault.id} ({fault.kind}) could not be ended: {exc}")
    out["ended_s"] = round(time.monotonic() - origin, 3)
    record_event("campaign_fault", fault.kind, f"{fault.id} {fault.kind} off", phase="end",
                 error=out.get("error"), **marks)


def _orders(schedule: Schedule, stop: threading.Event, out: Dict[str, Any], configuration: Configuration,
            secrets: Secrets) -> None:
    """The steady order flow of the whole campaign: successive bursts of at most ``BURST`` orders, each with
    ids of its own, until the campaign's length (or an interruption)."""
    total = max(1, int(schedule.rate * schedule.length_s))
    sent = 0
    try:
        while sent < total and not stop.is_set():
            count = min(BURST, total - sent)
            done = _call("chaosaitrapp.orders.actions:burst_orders",
                         {"count": count, "rate": schedule.rate, "duplicate_every": 0, "retries": 2,
                          "expect_failures": True, "first": sent}, configuration, secrets)
            for key in ("sent", "accepted", "rejected"):
                out[key] = out.get(key, 0) + int(done.get(key) or 0)
            sent += count
    except Exception as exc:  # noqa: BLE001 - reported by the action
        out["error"] = f"the order flow stopped: {exc}"


def _join(threads: List[threading.Thread], stop: threading.Event) -> None:
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:
        stop.set()  # interrupted: faults not yet begun never begin, those on end now
        deadline = time.monotonic() + INTERRUPT_GRACE_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        raise


def run_campaign(schedule: str, configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Play the campaign in file ``schedule`` (:mod:`chaosaitrapp.campaign.schedule`): orders at its rate for its
    whole length, each fault injected at its start and ended at its end by its family's actions, overlapping as
    scheduled. Returns ``{"seed", "faults": {id: what happened}, "orders", "outstanding"}``. Raises ConfigError for
    an unreadable or unsound schedule and GuardRefused against a trader not in PAPER mode (nothing injected);
    TargetError, after every fault has ended, when one could not be injected or ended, or the order flow failed."""
    plan = read_schedule(schedule)
    require_paper_target(configuration, secrets)
    run = current_run()
    if run is not None:
        try:
            run.broker_proxy = ProxyClient.from_configuration(configuration).url  # the history, at the broker
        except ConfigError:
            pass
    record_event("campaign", "campaign", f"seed {plan.seed}: {len(plan.faults)} faults over {plan.length_s:g}s at "
                 f"{plan.rate:g} orders/s", seed=plan.seed, faults=len(plan.faults), length_s=plan.length_s)
    stop = threading.Event()
    origin = time.monotonic()
    results: Dict[str, Dict[str, Any]] = {f.id: {"kind": f.kind} for f in plan.faults}
    orders: Dict[str, Any] = {}
    threads = [threading.Thread(target=_orders, args=(plan, stop, orders, configuration, secrets), daemon=True,
                                name="campaign-orders")]
    threads += [threading.Thread(target=_play, args=(f, origin, stop, results[f.id], configuration, secrets),
                                 daemon=True, name=f"campaign-{f.id}") for f in plan.faults]
    for thread in threads:
        thread.start()
    _join(list(threads), stop)
    outstanding = outstanding_for_run(run.run_id) if run is not None else 0
    errors = [r["error"] for r in results.values() if r.get("error")] + \
        ([orders["error"]] if orders.get("error") else [])
    record_event("campaign_ended", "campaign", f"{len(plan.faults)} faults played; {outstanding} left in the ledger",
                 outstanding=outstanding, errors=errors)
    if errors:
        raise TargetError("campaign: " + "; ".join(errors))
    return {"seed": plan.seed, "faults": results, "orders": orders, "outstanding": outstanding}


def undo_campaign(schedule: str, configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Rollback: run the cleanup action of every fault kind in the schedule once (each is idempotent: a
    dependency started, broker faults cleared, partitions healed, stalls and stressors ended). Returns
    ``{kind's cleanup: its result}``; raises TargetError naming each cleanup that failed (after trying all)."""
    plan = read_schedule(schedule)
    done: Dict[str, Any] = {}
    failed: List[str] = []
    seen: Dict[Any, Optional[str]] = {}
    for kind in dict.fromkeys(f.kind for f in plan.faults):
        spec = BY_NAME[kind]
        key = (spec.cleanup, tuple(sorted(spec.restore_args.items())) if spec.cleanup == spec.restore else ())
        if not spec.cleanup or key in seen:
            continue
        seen[key] = kind
        arguments = dict(spec.restore_args) if spec.cleanup == spec.restore else {}
        try:
            done[f"{kind}: {spec.cleanup}"] = _call(spec.cleanup, arguments, configuration, secrets)
        except Exception as exc:  # noqa: BLE001 - every cleanup is tried
            failed.append(f"{kind}: {exc}")
    if failed:
        raise TargetError("campaign rollback: " + "; ".join(failed))
    return done
