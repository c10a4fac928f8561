"""The gray family's pre-flight: the stall's length, the Postgres fault and the hang's length (offline);
online, a way to the target's Redis that answers, a way to its database with an ``orders`` table (not
applicable without one)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import value
from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.gray.actions import check_stall_seconds, stall_length, stall_reader
from chaosaitrapp.gray.balloon import free_bytes
from chaosaitrapp.gray.family import POSTGRES_VOLUME
from chaosaitrapp.gray.postgres_actions import balloon_driver, check_hang, lock_driver
from chaosaitrapp.gray.postgres_lock import TABLE

STALL_FUNCS = ("stall_redis",)
HANG_FUNCS = ("hang_postgres",)


def _hang_args(call: ActivityCall) -> tuple:
    return call.args.get("fault", "table_lock"), call.args.get("seconds", 15)


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """A bad stall length (not a number, outside [0, 600]); online, no way to the target's Redis (not
    applicable), a Redis that does not answer, or a length on the wrong side of the lease window
    (:func:`chaosaitrapp.gray.actions.stall_length`, the lock timing given or learned now). The same for the Postgres hang (:func:`hang_problems`)."""
    calls = [c for c in activities if c.func in STALL_FUNCS]
    if not calls:
        return hang_problems(activities, configuration, secrets, online)
    found: List[str] = hang_problems(activities, configuration, secrets, online)
    for call in calls:
        try:  # offline: the number alone; online, below, against the lease window
            check_stall_seconds(call.args.get("seconds", 0))
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    if not online:
        return found
    try:
        reader = stall_reader(configuration, secrets)
    except ConfigError as exc:
        return found + [NotApplicable(str(exc))]
    try:
        reader.command("PING")
    except ChaosAitrappError as exc:
        return found + [f"the target's Redis: {exc}"]
    # the stall's length against the lease window: the lock timing given, or learned now through the same
    # reader (and kept, so the run does not learn it again)
    target_timing(configuration, reader, learn=True)
    for call in calls:
        try:
            stall_length(call.args.get("seconds", 0), configuration, bool(call.args.get("brief")))
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    return found


def hang_problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
                  online: bool) -> List[str]:
    """An unknown Postgres fault or a bad hang length; online, no known database (not applicable), one that
    cannot be reached, or one without an ``orders`` table; for ``disk_full``, no volume named (not applicable)
    or a place the balloon may not go (:func:`chaosaitrapp.gray.balloon.balloon_path`)."""
    calls = [c for c in activities if c.func in HANG_FUNCS]
    found: List[str] = []
    for call in calls:
        try:
            check_hang(*_hang_args(call))
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    if not calls or not online:
        return found
    try:
        driver = lock_driver(1.0, configuration, secrets)
    except ConfigError as exc:
        return found + [NotApplicable(str(exc))]
    try:
        if not driver.has_table():
            found.append(f"{driver.describe()}: the database has no {TABLE} table to lock")
    except ChaosAitrappError as exc:
        found.append(str(exc))
    if any(_hang_args(c)[0] == "disk_full" for c in calls):
        if not value(configuration, POSTGRES_VOLUME):
            return found + [NotApplicable("POSTGRES_FAULT disk_full: no POSTGRES_VOLUME named (the directory "
                                          "Postgres' data volume is mounted at)")]
        try:
            balloon_driver(configuration)
        except ConfigError as exc:
            found.append(str(exc))
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The Redis the stall would pause, and for how long; the database whose writes would hang."""
    lines = hang_preview(activities, configuration, secrets)
    calls = [c for c in activities if c.func in STALL_FUNCS]
    if not calls:
        return lines
    try:
        reader = stall_reader(configuration, secrets)
        target_timing(configuration, reader, learn=True)  # read-only: the lock key's PTTL, as the pre-flight does
        length = stall_length(calls[0].args.get("seconds", 0), configuration, bool(calls[0].args.get("brief")))
    except ChaosAitrappError as exc:
        return lines + [f"stalls the target's Redis: unknown ({exc})"]
    return lines + [f"stalls {reader.label} for {length:g}s (CLIENT PAUSE ALL)"]


def hang_preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The database whose ``orders`` writes the hang would block, and for how long."""
    calls = [c for c in activities if c.func in HANG_FUNCS]
    if not calls:
        return []
    try:
        fault, seconds = _hang_args(calls[0])
        length = check_hang(fault, seconds)
        driver = lock_driver(length, configuration, secrets)
        if fault == "disk_full":
            balloon = balloon_driver(configuration)
    except ChaosAitrappError as exc:
        return [f"makes the target's Postgres writes hang: unknown ({exc})"]
    if fault == "disk_full":
        volume = Path(balloon.path).parent
        return [f"fills {volume} ({free_bytes(volume) / 1024 ** 2:.0f} MiB free) with a balloon file for {length:g}s: "
                f"writes of the Postgres reached through {driver.label} that need space fail, reads go on"]
    return [f"locks {TABLE} in the Postgres reached through {driver.label} for {length:g}s ({fault}: writes wait, "
            "reads go on)"]
