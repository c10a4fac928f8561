"""The target's timing: the lock's ``lock_ttl``, ``refresh``, ``backoff_max``; the market-data ticker's
``ticker_max_delay``. From, in this order: the evidence control's arguments; the lab's recorded profile
when a lab serves the drill's API (:func:`chaosaitrapp.targets.labstate.lab_for`); AITRAPP's production
timing (:mod:`chaosaitrapp.aitrapp`). The checkers' limits follow from it
(:mod:`chaosaitrapp.controls.limits`).
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from chaoslib.types import Configuration

from chaosaitrapp import aitrapp
from chaosaitrapp.config import settings_from
from chaosaitrapp.targets.labstate import lab_for

TIMING_KEYS = ("lock_ttl", "refresh", "backoff_max", "ticker_max_delay")


def target_timings(configuration: Configuration = None,
                   arguments: Optional[Mapping[str, Any]] = None) -> Dict[str, float]:
    """``{"lock_ttl", "refresh", "backoff_max", "ticker_max_delay"}`` of the target, in seconds (see the
    module docstring)."""
    timings = {**aitrapp.lock_timings(), "ticker_max_delay": aitrapp.TICKER_RECONNECT_MAX_DELAY_S}
    lab = lab_for(settings_from(configuration).api)
    if lab is not None:
        timings.update({k: float(v) for k, v in lab.timings.items() if k in TIMING_KEYS
                        and isinstance(v, (int, float))})
    for key in TIMING_KEYS:
        value = (arguments or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            timings[key] = float(value)
    return timings
