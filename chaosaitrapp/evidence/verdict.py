"""The drill's verdict from the Chaos Toolkit journal, the checkers and the control's own health.

FAIL when: the run did not complete (interrupted, aborted); the steady state failed before the
method (Chaos Toolkit alone exits 0 then); the steady state after was not met or never checked;
a method activity failed (a wait's deadline passed, a fault could not be injected); a rollback
failed; a checker failed or could not decide (unknown never counts as pass); the evidence
control itself had an error; or a fault of this run is still in the ledger.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple


def _activity_name(run: Dict[str, Any]) -> str:
    activity = run.get("activity") or {}
    return str(activity.get("name") or activity.get("provider", {}).get("func") or "?")


def _failed_probe(state: Dict[str, Any]) -> str:
    for probe in state.get("probes") or []:
        if not probe.get("tolerance_met", True) or probe.get("status") == "failed":
            output = probe.get("exception") or probe.get("output")
            text = output[-1] if isinstance(output, list) and output else output
            return f"{_activity_name(probe)} (got {str(text).strip()[:160]})"
    return "?"


def judge(journal: Dict[str, Any], checks: Iterable[Dict[str, Any]] = (), control_errors: Iterable[str] = (),
          outstanding_faults: int = 0) -> Tuple[str, List[str]]:
    """``("PASS"|"FAIL", reasons)`` for one drill; reasons are empty on PASS."""
    reasons: List[str] = []
    status = journal.get("status")
    if status != "completed":
        reasons.append(f"run status is {status!r}, not 'completed'")
    states = journal.get("steady_states") or {}
    before, after = states.get("before"), states.get("after")
    method_ran = bool(journal.get("run"))
    if before is not None and before.get("steady_state_met") is False:
        reasons.append(f"steady state before the method not met: {_failed_probe(before)}; method skipped")
    elif after is None and (before is not None or method_ran):
        reasons.append("steady state after the method was never checked")
    elif after is not None and after.get("steady_state_met") is not True:
        reasons.append(f"steady state after the method not met: {_failed_probe(after)}")
    for during in states.get("during") or []:
        if during.get("steady_state_met") is False:
            reasons.append(f"steady state deviated during the method: {_failed_probe(during)}")
            break
    for run in journal.get("run") or []:
        if run.get("status") == "failed":
            reasons.append(f"method step {_activity_name(run)} failed: {str(run.get('exception', [''])[-1]).strip()[:240]}")
    for run in journal.get("rollbacks") or []:
        if run.get("status") == "failed":
            reasons.append(f"rollback {_activity_name(run)} failed: {str(run.get('exception', [''])[-1]).strip()[:240]}")
    for check in checks:
        if check.get("status") == "fail":
            reasons.append(f"check {check['name']} failed: {check.get('reason')}")
        elif check.get("status") != "pass":
            reasons.append(f"check {check['name']} could not decide: {check.get('reason')}")
    for error in control_errors:
        reasons.append(f"evidence control error: {error}")
    if outstanding_faults:
        reasons.append(f"{outstanding_faults} fault(s) of this run still in the ledger after rollbacks")
    return ("FAIL" if reasons else "PASS"), reasons
