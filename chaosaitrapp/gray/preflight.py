"""The gray family's pre-flight: the stall's length (offline); online, a way to the target's Redis that
answers (not applicable without one)."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.gray.actions import check_stall_seconds, stall_length, stall_reader

STALL_FUNCS = ("stall_redis",)


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """A bad stall length (not a number, outside [0, 600]); online, no way to the target's Redis (not
    applicable) or a Redis that does not answer."""
    calls = [c for c in activities if c.func in STALL_FUNCS]
    if not calls:
        return []
    found: List[str] = []
    for call in calls:
        try:  # 0 (the lease) is resolved by the action: the lock timing is learned after the pre-flight
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
        found.append(f"the target's Redis: {exc}")
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The Redis the stall would pause, and for how long."""
    calls = [c for c in activities if c.func in STALL_FUNCS]
    if not calls:
        return []
    try:
        reader = stall_reader(configuration, secrets)
        length = stall_length(calls[0].args.get("seconds", 0), configuration)
    except ChaosAitrappError as exc:
        return [f"stalls the target's Redis: unknown ({exc})"]
    return [f"stalls {reader.label} for {length:g}s (CLIENT PAUSE ALL)"]
