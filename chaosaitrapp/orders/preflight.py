"""The orders family's pre-flight: the order source is well formed (offline), and aims at one replica when a
drill sends its orders to the leader (else the drill does not apply); ``doctor`` names the source."""
from __future__ import annotations

from typing import List, Sequence

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.declare import ActivityCall, NotApplicable
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.orders.sources import order_source

FUNCS = ("burst_orders",)


def _source_arg(call: ActivityCall) -> str:
    value = call.args.get("injector_command") or ""
    return value if isinstance(value, str) and not value.startswith("${") else ""


def problems(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets,
             online: bool) -> List[str]:
    """A malformed order source (offline); a source that cannot aim at one replica for orders sent to the
    leader (not applicable)."""
    found: List[str] = []
    for call in (c for c in activities if c.func in FUNCS):
        try:
            source = order_source(configuration, _source_arg(call))
        except ConfigError as exc:
            return [f"the order source: {exc}"]
        if call.args.get("to") == "leader" and not source.aims:
            found.append(NotApplicable(f"{call.name}: orders go to the leading replica, and the order source "
                                       f"({source.describe()}) cannot aim at one: name {{api}} in it or use a "
                                       "path on the API"))
    return found


def preview(activities: Sequence[ActivityCall], configuration: Configuration, secrets: Secrets) -> List[str]:
    """The order source each order-making step uses."""
    lines = []
    for call in (c for c in activities if c.func in FUNCS):
        try:
            lines.append(f"orders ({call.name}): {order_source(configuration, _source_arg(call)).describe()}")
        except ConfigError as exc:
            lines.append(f"orders ({call.name}): {exc}")
    return lines
