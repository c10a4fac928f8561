"""The lab runtime: start, stop and inspect the lab (Redis, Postgres, broker simulator, trader).

Public API (imported lazily, so that ``chaos``'s start-up, which loads this package's CLI plugin, does
not pay for the runtime)::

    lab_up(config: LabConfig) -> LabState
    lab_down(lab_dir: Path) -> None
    lab_status(lab_dir: Path) -> dict
    lab_logs(lab_dir: Path, service: str, lines: int = 50) -> str
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"LabConfig": "config", "LabPorts": "config", "lab_up": "lifecycle", "lab_down": "lifecycle",
            "lab_status": "lifecycle", "lab_logs": "lifecycle"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
