"""Never leave a fault behind: the fault ledger, its watchdog and the cleanup routine.

- :mod:`chaosaitrapp.safety.ledger`: :class:`Ledger` / :class:`FaultEntry`, the durable record
  written before a fault is injected and cleared once it is undone;
- :mod:`chaosaitrapp.safety.watchdog`: :func:`spawn_watchdog`, a detached process that undoes
  one entry when the ``chaos`` process dies or the entry's lease expires;
- :mod:`chaosaitrapp.safety.cleanup`: :func:`cleanup` (``aitrapp-chaos cleanup``), undo whatever
  the ledger still holds (or only its stale entries: dead run, expired lease).

Names are imported lazily (``python -m chaosaitrapp.safety.watchdog`` must not find its own
module already imported by this package).
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FaultEntry": "ledger",
    "Ledger": "ledger",
    "LedgerError": "ledger",
    "LedgerCorrupt": "ledger",
    "cleanup": "cleanup",
    "undo_entry": "cleanup",
    "spawn_watchdog": "watchdog",
    "wait_watchdog": "watchdog",
    "run_alive": "watchdog",
    "process_start_time": "watchdog",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
