"""The crash family's pre-flight: the crash point and the delay (offline); online, a trader that can be started
again (not applicable without a known one; refused as ``pid:N``), running, in PAPER mode, and a broker fault
proxy in front of its broker (not applicable without one)."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.preflight import proxy_problems
from chaosaitrapp.crash.actions import check_delay, check_point, leader_and_standbys, require_not_live
from chaosaitrapp.crash.target import crash_target, trader_spec
from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.errors import ChaosAitrappError, ConfigError

ARM_FUNCS = ("arm_crash",)
KILL_FUNCS = ("crash_trader",)


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """An unknown crash point or a bad delay; online, a trader named as nothing restartable (``pid:N``) or not
    running, not in PAPER mode, and no broker fault proxy (not applicable) or one that does not answer."""
    found: List[str] = []
    arms = [c for c in activities if c.func in ARM_FUNCS]
    for call in arms:
        try:
            check_point(call.args.get("point", "after_broker_ack"))
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    for call in (c for c in activities if c.func in KILL_FUNCS):
        try:
            check_delay(call.args.get("delay_ms", 0))
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    if not arms or not online or found:
        return found
    if any(c.args.get("point") == "mid_leader_change" for c in arms):
        try:
            leader_and_standbys(configuration, secrets)
            require_not_live(configuration, secrets)
            if target_lock_reader(configuration, secrets) is None:
                found.append("crash point mid_leader_change watches the lock key for the new leader's grant: no way "
                             "to read it is known (LOCK_REDIS, the REDIS_URL secret or REDIS_TARGET)")
        except ChaosAitrappError as exc:
            found.append(str(exc))
        return found + proxy_problems(configuration, " (the crash drill sees the crash point there)")
    try:
        trader_spec(configuration)
    except ConfigError as exc:
        if "TARGET_PROCESS" in str(exc):
            return [NotApplicable(str(exc))]
        return [str(exc)]
    try:
        crash_target(configuration)
        require_not_live(configuration, secrets)
    except ChaosAitrappError as exc:
        found.append(str(exc))
    return found + proxy_problems(configuration, " (the crash drill sees the crash point there)")


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The trader the drill kills, the crash point, and how it is started again."""
    arms = [c for c in activities if c.func in ARM_FUNCS]
    if not arms:
        return []
    point = arms[0].args.get("point", "after_broker_ack")
    if point == "mid_leader_change":
        try:
            leader, standbys, _ = leader_and_standbys(configuration, secrets)
        except ChaosAitrappError as exc:
            return [f"kills the leader and then the new leader at {point}: unknown ({exc})"]
        return [f"kills the leader {leader.describe()} with SIGKILL with an order in doubt, then whichever of "
                f"{', '.join(t.describe() for t in standbys)} wins the lock, and starts each again as it ran"]
    try:
        target = crash_target(configuration)
    except ChaosAitrappError as exc:
        return [f"kills the trader at {point}: unknown ({exc})"]
    return [f"kills {target.spec} (pid {target.pid()}) with SIGKILL at {point} and starts it again as it ran "
            f"({target.describe()})"]
