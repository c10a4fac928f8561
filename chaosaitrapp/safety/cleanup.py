"""Undo every fault left in the ledger: ``aitrapp-chaos cleanup``.

:func:`cleanup` walks the outstanding entries of a :class:`~chaosaitrapp.safety.ledger.Ledger`
and undoes each through its driver (``driver_from_undo(entry.undo).start(timeout)``, which
returns once the dependency answers), clearing the entry only once it is undone. An entry
whose undo fails stays in the ledger and is reported with its target named. It is safe to run
any number of times and concurrently with other cleanups and watchdogs: each entry is undone
under the ledger's undo lock after re-reading it, so an entry undone by someone else is
reported ``gone`` and its dependency is not started twice.

Per-entry report (a dict)::

    {"id": "3f2a...", "what": "stop", "target": "lab:redis",
     "status": "undone" | "failed" | "gone" | "skipped",
     "detail": "answers again" | "<error naming the target>" | ..., "seconds": 0.41}

``gone``: cleared by someone else meanwhile; ``skipped``: ``only_expired`` and the entry is a live
drill's fault (its run lives and its lease still runs: another drill running at the same moment
keeps its fault for as long as it planned).

A driver is rebuilt from its undo recipe by :func:`chaosaitrapp.registry.driver_from_undo` (the recipe
names its driver; the registry also holds the test seam for fake drivers).
"""
from __future__ import annotations

import time
from typing import Callable, List, Optional

from chaosaitrapp import registry
from chaosaitrapp.safety.ledger import FaultEntry, Ledger, LedgerError

__all__ = ["cleanup", "undo_entry", "format_result"]

def _report(entry: FaultEntry, status: str, detail: str, started: float) -> dict:
    return {
        "id": entry.id,
        "what": entry.what,
        "target": entry.target,
        "status": status,
        "detail": detail,
        "seconds": round(time.monotonic() - started, 3),
    }


def undo_entry(
    ledger: Ledger,
    entry_id: str,
    *,
    timeout: float = 60.0,
    lock_timeout: Optional[float] = None,
    only_if: Optional[Callable[[FaultEntry], Optional[str]]] = None,
) -> Optional[dict]:
    """Undo one entry and clear it, under the ledger's undo lock; return its report dict.

    Returns ``None`` when ``entry_id`` is not outstanding when first looked at. Under the lock
    the entry is re-read: cleared meanwhile gives status ``gone``. ``only_if(entry)`` may veto
    the undo by returning a reason (status ``skipped`` with that reason as detail). The driver's
    ``start(timeout)`` must return (the dependency answers) before the entry is cleared; any
    exception leaves the entry outstanding and gives status ``failed`` with the error, the
    target named. ``lock_timeout`` defaults to ``timeout + 30`` s (another undoer may hold the
    lock for one undo); a lock that cannot be taken is a ``failed`` report too.
    """
    first = ledger.get(entry_id)
    if first is None:
        return None
    started = time.monotonic()
    wait = timeout + 30.0 if lock_timeout is None else lock_timeout
    try:
        with ledger.undo_lock(wait):
            entry = ledger.get(entry_id)
            if entry is None:
                return _report(first, "gone", "already cleared by another process", started)
            if only_if is not None:
                reason = only_if(entry)
                if reason:
                    return _report(entry, "skipped", reason, started)
            try:
                driver = registry.driver_from_undo(entry.undo)
                driver.start(timeout)
            except Exception as exc:  # noqa: BLE001 - every failure is reported, entry kept
                message = str(exc) or type(exc).__name__
                if entry.target not in message:
                    message = f"{entry.target}: {message}"
                return _report(entry, "failed", f"undo failed, fault still outstanding: {message}", started)
            ledger.clear(entry.id)
            return _report(entry, "undone", f"{entry.target} started and answers again", started)
    except LedgerError as exc:
        return _report(first, "failed", f"{first.target}: {exc}", started)


def cleanup(
    ledger: Ledger,
    *,
    timeout: float = 60.0,
    only_expired: bool = False,
    now: Callable[[], float] = time.time,
) -> List[dict]:
    """Undo every outstanding entry of ``ledger`` (oldest first); one report dict per entry.

    ``timeout`` bounds each entry's undo (the driver's ``start``). With ``only_expired`` (what every
    drill does before it starts), only *stale* entries are undone: the lease ran out, or the run that
    injected the fault is gone (:meth:`FaultEntry.stale`); a live drill's fault is left alone
    (status ``skipped``). Idempotent and safe to run concurrently (see :func:`undo_entry`). Raises
    :class:`~chaosaitrapp.safety.ledger.LedgerCorrupt` when the ledger cannot be parsed.
    """
    results: List[dict] = []

    def lease_check(entry: FaultEntry) -> Optional[str]:
        if only_expired and entry.stale(now()) is None:
            left = entry.lease_expires_wall - now()
            return f"a live drill's fault (run pid {entry.run_pid}, lease runs {left:.0f} s more)"
        return None

    for entry in ledger.outstanding():
        result = undo_entry(ledger, entry.id, timeout=timeout, only_if=lease_check)
        if result is not None:
            results.append(result)
    return results


_LABELS = {"undone": "undone", "failed": "FAILED", "gone": "already cleared", "skipped": "left alone"}


def format_result(result: dict) -> str:
    """One human line for a report dict, e.g. ``undone: lab:redis (stop, entry 3f2a9c01) in 0.41 s: ...``."""
    label = _LABELS.get(result["status"], result["status"])
    return (
        f"{label}: {result['target']} ({result['what']}, entry {result['id'][:8]}) "
        f"in {result['seconds']:.2f} s: {result['detail']}"
    )
