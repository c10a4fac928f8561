"""The clock family's pre-flight: the jump and the hold (offline); online, a clock file (not applicable without
one) that exists, holds ``+0`` and can be written, a trader whose answers carry a ``Date`` header reading our
time (so the jump can be seen to land), a way to the lock key, and the hold's length (0: learned lock timing)."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.clock.actions import DATE_SLACK_S, LANDS_WITHIN_S, hold_length, target_clock_offset
from chaosaitrapp.clock.chaosmesh import time_chaos_driver
from chaosaitrapp.clock.family import CLOCK_FILE
from chaosaitrapp.config import core_setting, value
from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.targets.wallclock import check_jump, read_clock
from chaosaitrapp.waiting import wait_until

JUMP_FUNCS = ("jump_clock",)


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """A bad jump or hold; online, no clock file (not applicable), one missing, garbled, already jumped or not
    writable, a target whose clock cannot be read from its answers or is off already, no way to the lock key
    (not applicable), a hold of 0 with the lock timing unknown."""
    calls = [c for c in activities if c.func in JUMP_FUNCS]
    found: List[str] = []
    for call in calls:
        try:
            check_jump(call.args.get("jump", "-300"))
            hold_length(call.args.get("hold", 0), None, offline=True)
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    if not calls or not online:
        return found
    path = value(configuration, CLOCK_FILE)
    if not path and value(configuration, core_setting("k8s_trader_selector")):
        try:  # on Kubernetes: a TimeChaos of the trader's pods (a step only), no file to check
            for call in calls:
                if check_jump(call.args.get("jump", "-300")).rate != 1:
                    raise ConfigError("a drift needs the clock file: a TimeChaos steps the clock, it cannot make it drift")
            time_chaos_driver(300.0, 330.0, configuration)
        except ConfigError as exc:
            return found + [str(exc)]
        return found + _target_checks(calls, configuration, secrets)
    if not path:
        return found + [NotApplicable("no clock file: start the trader with the wall-clock shim (aitrapp-chaos lab up "
                                      "--fake-clock; aitrapp-chaos clock-shim prints the environment) and set CLOCK_FILE; "
                                      "on Kubernetes set K8S_TRADER_SELECTOR (a TimeChaos)")]
    try:
        if not read_clock(path).true:
            found.append(f"clock file {path} already holds an offset or a drift: the trader's clock is off (run aitrapp-chaos "
                         "cleanup)")
    except ConfigError as exc:
        return found + [str(exc)]
    if not os.access(path, os.W_OK) or not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        found.append(f"clock file {path}: this user cannot write it (and its directory)")
    return found + _target_checks(calls, configuration, secrets)


def _target_checks(calls: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """Online, whatever makes the jump: the target's clock readable from its answers and reading ours, a way to the
    lock key (not applicable without one), the hold's length."""
    found: List[str] = []
    try:
        offset = _settled_offset(TraderClient.from_configuration(configuration, secrets))
    except ChaosAitrappError as exc:
        return found + [f"the target's API: {exc}"]
    if offset is None:
        found.append("the target answers without a Date header: the drill could not see its clock jump")
    elif abs(offset) > DATE_SLACK_S:
        found.append(f"the target's clock is {offset:+.0f}s from ours before any jump (its Date header): it reads "
                     "another clock, or the clock file is not the trader's")
    reader = target_lock_reader(configuration, secrets)
    if reader is None:
        return found + [NotApplicable("the clock drill reads the lock key: set lock_redis, the REDIS_URL secret or "
                                      "REDIS_TARGET")]
    target_timing(configuration, reader, learn=True)
    for call in calls:
        try:
            hold_length(call.args.get("hold", 0), configuration)
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    return found


def _settled_offset(client: TraderClient) -> Optional[float]:
    """The target's clock offset as its ``Date`` header shows it, waited for (at most ``LANDS_WITHIN_S``) until
    it reads our time: a clock put back a moment ago (a previous run's rollback, the watchdog) shows in the
    header only at its next one-second refresh. None without a ``Date`` header; ApiError when it does not
    answer."""
    waited = wait_until(lambda: target_clock_offset(client), lambda o: o is None or abs(o) <= DATE_SLACK_S,
                        timeout=LANDS_WITHIN_S, interval=0.2, what="the target's clock to read our time",
                        tolerate=())
    return waited.value


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The clock file the drill would write, the step and the hold."""
    calls = [c for c in activities if c.func in JUMP_FUNCS]
    if not calls:
        return []
    path = value(configuration, CLOCK_FILE)
    selector = value(configuration, core_setting("k8s_trader_selector"))
    if not path and selector:
        jump = calls[0].args.get("jump", "-300")
        return [f"steps the wall clock of the trader's pods {selector} by {jump} with a Chaos Mesh TimeChaos in "
                f"{value(configuration, core_setting('k8s_namespace'))}"]
    if not path:
        return ["steps the trader's wall clock: not applicable (no CLOCK_FILE, no K8S_TRADER_SELECTOR)"]
    try:
        setting = check_jump(calls[0].args.get("jump", "-300"))
        target_timing(configuration, target_lock_reader(configuration, secrets), learn=True)
        hold = hold_length(calls[0].args.get("hold", 0), configuration)
    except ChaosAitrappError as exc:
        return [f"steps the trader's wall clock through {path}: unknown ({exc})"]
    how = f"makes the wall clock of the trader reading {path} drift at x{setting.rate:g}" if setting.rate != 1 else \
        f"steps the wall clock of the trader reading {path} by {setting.offset:+g}s"
    return [f"{how} for {hold:g}s, then puts it back"]
