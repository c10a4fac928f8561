"""The actions' side of the fault ledger: register a fault before injecting it (with a lease and
a watchdog outside this process), clear it once the dependency is restored."""
from __future__ import annotations

import os
import time
import uuid
from typing import Any, Callable, Dict, Optional

from chaosaitrapp import registry
from chaosaitrapp.evidence.recorder import current_run
from chaosaitrapp.paths import ledger_path
from chaosaitrapp.safety.ledger import Ledger
from chaosaitrapp.safety.watchdog import confirm_watchdog, spawn_watchdog


def register_fault(what: str, target: str, undo: Dict[str, Any], lease_s: float,
                   restart_env: Optional[Dict[str, str]] = None) -> str:
    """Start the fault's watchdog, record the fault durably, tell the watchdog it is recorded, and return the
    entry id (a run killed at any instant leaves no entry, or an entry with its watchdog). ``restart_env``: variables for
    the watchdog's own environment only (what it needs to undo the fault but the ledger must never hold: a
    stopped process's environment, :meth:`chaosaitrapp.targets.process.ProcessDriver.restart_env`)."""
    run = current_run()
    ledger = Ledger(ledger_path())
    entry_id = uuid.uuid4().hex
    # the watchdog first, told afterwards that the entry is written: a run killed at any instant leaves
    # either no entry or an entry with its watchdog
    watchdog = spawn_watchdog(ledger_path(), entry_id, os.getpid(), time.time() + lease_s, extra_env=restart_env,
                              await_record=True)
    recorded = False
    try:
        ledger.record(what, target, undo, lease_seconds=lease_s, run_id=run.run_id if run else f"pid-{os.getpid()}",
                      run_pid=os.getpid(), note=f"drill {run.drill}" if run else "", entry_id=entry_id)
        recorded = True
    finally:
        confirm_watchdog(watchdog, recorded)
    return entry_id


def restore_faults(target: str, driver, timeout: float, *, holder: bool = False) -> int:
    """Undo ``target``'s faults and clear its ledger entries, under the ledger's undo lock so a watchdog
    whose lease ran out meanwhile never starts the same dependency twice: through the recipe its oldest
    entry recorded when the fault was injected (a process started again as it ran then), else through
    ``driver``; through ``driver`` always when it is the ``holder`` of the fault (this process holds what the
    fault is, a database session: the recipe is for the others). Returns how many entries were cleared."""
    ledger = Ledger(ledger_path())
    with ledger.undo_lock(timeout=timeout + 30):
        entries = [e for e in ledger.outstanding() if e.target == target]
        (registry.driver_from_undo(entries[0].undo) if entries and not holder else driver).start(timeout)
        cleared = sum(1 for entry in entries if ledger.clear(entry.id))
    return cleared


def restore_outstanding(driver: type, timeout: float = 10.0,
                        where: Optional[Callable[[Dict[str, Any]], bool]] = None) -> int:
    """Undo every ledger entry whose recipe names the ``driver`` class (a pause, a stressor: what a run that
    died before its rollback left) and, given ``where``, that ``where(recipe)`` accepts (a Chaos Mesh resource of
    one kind), each through its driver; how many entries were cleared."""
    cleared = 0
    for entry in Ledger(ledger_path()).outstanding():
        undo = entry.undo or {}
        if registry.driver_class(undo) is driver and (where is None or where(undo)):
            cleared += restore_faults(entry.target, registry.driver_from_undo(entry.undo), timeout)
    return cleared


def outstanding_for_run(run_id: str) -> int:
    """How many ledger entries of run ``run_id`` are still outstanding."""
    return sum(1 for e in Ledger(ledger_path()).outstanding() if e.run_id == run_id)
