"""The target's timing, and the limits the checkers hold a drill to.

The timing (the lock's ``lock_ttl``, ``refresh``, ``backoff_max``; the market-data ticker's
``ticker_max_delay``) comes from, in this order: the evidence control's arguments; the lab's
recorded profile when a lab serves the drill's API (:func:`chaosaitrapp.targets.labstate.lab_for`);
AITRAPP's production timing (:mod:`chaosaitrapp.aitrapp`). The checkers' limits follow from it and
from the faults the drill injects (:meth:`Limits.defaults` for dependency faults,
:meth:`Limits.feed` for broker faults, the widest of both when it injects both), then the control's
``limits`` argument and ``$AITRAPP_CHECK_LIMITS`` override them, key by key; an unknown key is an
error naming the known ones, never silently ignored.
"""
from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from typing import Any, Dict, List, Mapping, Optional

from chaoslib.types import Configuration

from chaosaitrapp import aitrapp
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.config import settings_from
from chaosaitrapp.errors import ConfigError

TIMING_KEYS = ("lock_ttl", "refresh", "backoff_max", "ticker_max_delay")
LIMITS_ENV = "AITRAPP_CHECK_LIMITS"


def target_timings(configuration: Configuration = None,
                   arguments: Optional[Mapping[str, Any]] = None) -> Dict[str, float]:
    """``{"lock_ttl", "refresh", "backoff_max", "ticker_max_delay"}`` of the target, in seconds (see the
    module docstring)."""
    from chaosaitrapp.targets.labstate import lab_for

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


def check_limit_overrides(overrides: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """``overrides`` when every key is a :class:`Limits` field with a number (or null for
    ``unavailability_s``); ConfigError naming ``where``, the bad key and the known keys otherwise."""
    known = {f.name for f in fields(Limits)}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{where} must be an object of checker limits, got {overrides!r}")
    for key, value in overrides.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown checker limit {key!r}; known: {', '.join(sorted(known))}", key=key)
        if value is None and key == "unavailability_s":
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: limit {key} must be a non-negative number, got {value!r}", key=key)
    return dict(overrides)


def limit_overrides_from_env() -> Dict[str, Any]:
    """Checker limits from ``$AITRAPP_CHECK_LIMITS`` (a JSON object such as ``{"detect_s": 15}``);
    ConfigError naming the variable when it is not one, or names an unknown limit."""
    raw = os.environ.get(LIMITS_ENV)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{LIMITS_ENV} must be a JSON object, got {raw[:60]!r}: {exc}")
    return check_limit_overrides(value, LIMITS_ENV)


def drill_limits(configuration: Configuration, arguments: Mapping[str, Any], interval: float,
                 faults: Optional[List[str]] = None) -> Limits:
    """The limits of this drill: derived from the target's timing and the kinds of fault in ``faults``
    (None or no broker fault: the dependency limits), then the control's ``limits`` argument, then
    ``$AITRAPP_CHECK_LIMITS``. ConfigError for a bad override."""
    settings = settings_from(configuration)
    timings = target_timings(configuration, arguments)
    kinds = list(faults or [])
    broker = [k for k in kinds if k.startswith("broker_")]
    dependency = Limits.defaults(timings["lock_ttl"], timings["refresh"], timings["backoff_max"],
                                 settings.wait_ready_timeout, settings.heartbeat_max, interval=interval)
    limits = dependency
    if broker:
        feed = Limits.feed(timings["ticker_max_delay"], settings.wait_ready_timeout, settings.heartbeat_max,
                           interval=interval)
        limits = feed.widest(dependency) if len(broker) < len(kinds) else feed
    limits = replace(limits, lock_ttl=timings["lock_ttl"], lock_refresh=timings["refresh"])
    overrides = check_limit_overrides(arguments.get("limits") or {}, "the evidence control's 'limits'")
    overrides.update(limit_overrides_from_env())
    return Limits.from_dict(overrides, base=limits)
