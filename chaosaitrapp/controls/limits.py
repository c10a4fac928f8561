"""The limits the checkers hold a drill to: derived from the target's timing
(:func:`chaosaitrapp.deployment.timing.target_timing`) and the faults the drill injects
(:meth:`Limits.defaults` for the lock's timing, :meth:`Limits.feed` for the market-data feed's, as each
fault kind declares), with every family's budgets; then the evidence control's ``limits`` argument and
``$AITRAPP_CHECK_LIMITS`` override them, key by key; an unknown key is an error naming the known ones,
never silently ignored.
"""
from __future__ import annotations

import json
import os
from dataclasses import fields, replace
from typing import Any, Dict, List, Mapping, Optional

from chaoslib.types import Configuration

from chaosaitrapp import registry
from chaosaitrapp.checks.limits import NULLABLE_FIELDS, Limits
from chaosaitrapp.config import settings_from
from chaosaitrapp.deployment.timing import Timing, target_timing
from chaosaitrapp.errors import ConfigError

LIMITS_ENV = "AITRAPP_CHECK_LIMITS"


def check_limit_overrides(overrides: Mapping[str, Any], where: str) -> Dict[str, Any]:
    """``overrides`` when every key is a :class:`Limits` field with a number (or null for
    ``unavailability_s``); ConfigError naming ``where``, the bad key and the known keys otherwise."""
    known = ({f.name for f in fields(Limits)} - {"budgets"}) | set(registry.budgets())
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{where} must be an object of checker limits, got {overrides!r}")
    for key, value in overrides.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown checker limit {key!r}; known: {', '.join(sorted(known))}", key=key)
        if value is None and (key in NULLABLE_FIELDS or key in registry.budgets()):
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
                 faults: Optional[List[str]] = None, timing: Optional[Timing] = None) -> Limits:
    """The limits of this drill: derived from the target's ``timing`` (default: as known now, nothing learned)
    and the kinds of fault in ``faults`` (each kind says which timing it follows: the lock's, or the
    market-data feed's; the widest of both when the drill injects both), every family's budgets, then the
    control's ``limits`` argument, then ``$AITRAPP_CHECK_LIMITS``. ConfigError for a bad override."""
    settings = settings_from(configuration)
    timing = timing if timing is not None else target_timing(configuration)
    kinds = list(faults or [])
    on_feed = [k for k in kinds if getattr(registry.fault_kind(k), "timing", "lock") == "feed"]
    dependency = Limits.defaults(timing.lock_ttl, timing.lock_refresh, timing.lock_backoff_max,
                                 settings.wait_ready_timeout, settings.heartbeat_max, interval=interval)
    limits = dependency
    if on_feed:
        feed = Limits.feed(timing.ticker_max_delay, settings.wait_ready_timeout, settings.heartbeat_max,
                           interval=interval)
        limits = feed.widest(dependency) if len(on_feed) < len(kinds) else replace(
            feed, lock_ttl=dependency.lock_ttl, lock_refresh=dependency.lock_refresh, unknown={
                k: v for k, v in dependency.unknown.items() if k != "detect_s"})
    limits = replace(limits, budgets=registry.budgets())
    overrides = check_limit_overrides(arguments.get("limits") or {}, "the evidence control's 'limits'")
    overrides.update(limit_overrides_from_env())
    return Limits.from_dict(overrides, base=limits)
