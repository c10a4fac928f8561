"""The order-state family's pre-flight: the state and its seconds (offline); online, a trader in PAPER mode and a
broker fault proxy in front of its broker (not applicable without one)."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.preflight import proxy_problems
from chaosaitrapp.crash.actions import require_not_live
from chaosaitrapp.declare import ActivityCall
from chaosaitrapp.errors import ChaosAitrappError, ConfigError
from chaosaitrapp.orderstates.actions import check_seconds, check_state, state_params

SCRIPT_FUNCS = ("script_order_state",)


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """An unknown order state or bad seconds; online, a trader not in PAPER mode, and no broker fault proxy (not
    applicable) or one that does not answer."""
    found: List[str] = []
    calls = [c for c in activities if c.func in SCRIPT_FUNCS]
    for call in calls:
        try:
            check_state(call.args.get("state", "pending_then_cancelled"))
            check_seconds(call.args.get("seconds", 2))
        except ConfigError as exc:
            found.append(f"{call.name}: {exc}")
    if not calls or not online or found:
        return found
    try:
        require_not_live(configuration, secrets)
    except ChaosAitrappError as exc:
        found.append(str(exc))
    return found + proxy_problems(configuration, " (the order-state drill scripts the broker's answers there)")


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """What the broker will say of the drill's orders."""
    out = []
    for call in (c for c in activities if c.func in SCRIPT_FUNCS):
        try:
            state = check_state(call.args.get("state", "pending_then_cancelled"))
            params = state_params(state, check_seconds(call.args.get("seconds", 2)))
        except ConfigError as exc:
            out.append(f"scripts the broker's order states: unknown ({exc})")
            continue
        shown = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
        out.append(f"the broker fault proxy shows the drill's orders as {state} ({shown}); the upstream broker still "
                   "receives every placement")
    return out
