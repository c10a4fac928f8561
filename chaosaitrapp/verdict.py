"""The one verdict: a drill's outcome from its Chaos Toolkit journal, its checks and the controls'
own health (:func:`judge`), and the outcome a journal records (:func:`recorded`).

FAIL when: the pre-flight refused the drill; the run did not complete (interrupted, aborted); the
steady state failed before the method (Chaos Toolkit alone exits 0 then); the steady state after
was not met or never checked; a method activity failed (a wait's deadline passed, a fault could not
be injected); a rollback failed; a checker failed or could not decide (unknown never counts as
pass); the evidence control itself had an error; or a fault of this run is still in the ledger.

DRY: a dry run (``chaos run --dry``) whose pre-flight was clean and whose controls had no error:
nothing was injected, so nothing was judged; it is not a failure (``chaos run`` exits 0).
SKIP: the pre-flight found only that the deployment lacks what the drill needs (not applicable: no
broker fault proxy, a single replica...): nothing was injected; a suite skips it, a drill named explicitly
is bad input.
PASS otherwise. Everything that shows a verdict (the seed log, the report, JUnit, the suite) reads
the one :func:`judge` wrote into the journal, never a verdict of its own.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

EXTENSION_NAME = "chaosaitrapp"
VERDICTS = ("PASS", "FAIL", "DRY", "SKIP")


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
          outstanding_faults: int = 0, preflight: Iterable[str] = (), dry: bool = False,
          not_applicable: Iterable[str] = ()) -> Tuple[str, List[str]]:
    """``(verdict, reasons)`` for one drill: ``PASS``, ``FAIL``, ``DRY`` or ``SKIP`` (module docstring);
    reasons are empty for PASS and DRY. ``checks`` are check results as dicts, ``preflight`` the
    pre-flight's refusals, ``not_applicable`` what the deployment lacks for this drill,
    ``outstanding_faults`` this run's entries still in the ledger."""
    skipped = [str(p) for p in not_applicable]
    refused = [str(p) for p in preflight]
    if skipped and not refused and not outstanding_faults and not control_errors:
        return "SKIP", skipped
    refused += skipped
    health = [f"evidence control error: {error}" for error in control_errors]
    if outstanding_faults:
        health.append(f"{outstanding_faults} fault(s) of this run still in the ledger after rollbacks")
    states = journal.get("steady_states") or {}
    before, after = states.get("before"), states.get("after")
    if refused or dry:  # refused: what the method would have shown is beside the point; dry: nothing ran
        reasons = refused + health
        if dry and before is not None and before.get("steady_state_met") is False:
            reasons.append(f"steady state before the method not met: {_failed_probe(before)}")
        return ("FAIL", reasons) if reasons or not dry else ("DRY", [])
    reasons: List[str] = []
    status = journal.get("status")
    if status != "completed":
        reasons.append(f"run status is {status!r}, not 'completed'")
    method_ran = bool(journal.get("run"))
    if before is not None and before.get("steady_state_met") is False:
        reasons.append(f"steady state before the method not met: {_failed_probe(before)}; method skipped")
    elif after is None and (before is not None or method_ran):
        reasons.append("steady state after the method was never checked")
    elif after is not None and after.get("steady_state_met") is not True:
        reasons.append(f"steady state after the method not met: {_failed_probe(after)}")
    for during in states.get("during") or []:
        if during.get(CHECKS_MARK):
            continue  # the checks themselves, as Chaos Toolkit's readers see them: judged below
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
    reasons += health
    return ("FAIL" if reasons else "PASS"), reasons


#: Marks the ``steady_states.during`` entry that holds the drill's checks (:func:`checks_as_steady_state`).
CHECKS_MARK = "chaosaitrapp_checks"


def checks_as_steady_state(checks: Iterable[Dict[str, Any]], start: str, end: str) -> Optional[Dict[str, Any]]:
    """The drill's checks as one steady state *during* the method, for the journal: the checks judge the
    target over the method's timeline, and Chaos Toolkit's own readers (``chaos run --output agent``,
    ``chaos report``) know only steady states. One probe record per decided or undecided check: a pass or
    fail is a probe that ran (``tolerance_met`` its outcome), an unknown one a probe that failed to
    evaluate (``--output agent`` then says ``probe-error``); ``steady_state_met`` is False unless every
    check passed. None without checks. ``start``/``end``: ISO times of the judged span."""
    records = []
    for check in checks:
        status = check.get("status")
        record: Dict[str, Any] = {
            "activity": {"type": "probe", "name": f"check:{check.get('name')}",
                         "provider": {"type": "python", "module": "chaosaitrapp.checks", "func": str(check.get("name"))}},
            "status": "succeeded" if status in ("pass", "fail") else "failed",
            "output": {"status": status, "reason": check.get("reason")},
            "start": start, "end": end, "duration": 0,
            "tolerance_met": status == "pass",
        }
        if status not in ("pass", "fail"):
            record["exception"] = [f"the check could not decide: {check.get('reason')}"]
        records.append(record)
    if not records:
        return None
    return {"steady_state_met": all(r["tolerance_met"] for r in records), "probes": records, CHECKS_MARK: True}


def extension(journal: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The journal's ``extensions`` entry named ``chaosaitrapp`` (the last one), or None."""
    found = None
    for entry in (journal.get("extensions") or []) if isinstance(journal, dict) else []:
        if isinstance(entry, dict) and entry.get("name") == EXTENSION_NAME:
            found = entry
    return found


def recorded(journal: Dict[str, Any]) -> Tuple[str, List[Dict[str, Any]], List[str]]:
    """``(verdict, checks, reasons)`` as the evidence control recorded them in ``journal``.

    A journal without the ``chaosaitrapp`` entry (no evidence control, or the run was killed before
    it could judge) is ``FAIL`` with a reason saying so: nothing judged it, so it cannot pass.
    """
    ext = extension(journal)
    if ext is None or ext.get("verdict") not in VERDICTS:
        status = journal.get("status") if isinstance(journal, dict) else None
        return "FAIL", [], [f"the journal has no chaosaitrapp verdict (Chaos Toolkit status {status!r}): "
                            "no evidence control judged this run"]
    checks = [c for c in ext.get("checks") or [] if isinstance(c, dict)]
    return str(ext["verdict"]), checks, [str(r) for r in ext.get("reasons") or []]


def suite_exit_code(runs: Sequence[Dict[str, object]], strict: bool = False) -> int:
    """``aitrapp-chaos run``'s exit code: 0 when the suite passed (or was dry; a skipped drill of the default
    selection does not count), 1 when a drill failed, 2 when every drill that did not pass was refused by its
    pre-flight (bad input: nothing was injected), or was not applicable although named explicitly (a run's
    ``named``) or ``strict``."""
    if not runs:
        return 1
    bad = [r for r in runs if r.get("verdict") not in ("PASS", "DRY", "SKIP")
           or r.get("verdict") == "SKIP" and (r.get("named") or strict)]
    if not bad:
        return 0
    return 2 if all(r.get("refused") or r.get("verdict") == "SKIP" for r in bad) else 1


def suite_verdict(runs: Sequence[Dict[str, object]]) -> str:
    """``FAIL`` when there is no run or any run failed, ``DRY`` when every run was dry, ``SKIP`` when every run
    was skipped (not applicable), else ``PASS`` (skipped runs do not fail a suite)."""
    verdicts = [r.get("verdict") for r in runs]
    if not verdicts or any(v not in ("PASS", "DRY", "SKIP") for v in verdicts):
        return "FAIL"
    if all(v == "SKIP" for v in verdicts):
        return "SKIP"
    return "DRY" if all(v in ("DRY", "SKIP") for v in verdicts) else "PASS"
