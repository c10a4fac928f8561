"""The faults the TCP fault proxy knows, each on one route (``params["route"]``):

=============  =================================================================================
kind           what the target sees while it is active
=============  =================================================================================
``blackhole``  nothing moves in ``direction`` (``both``, ``to_dependency``, ``from_dependency``):
               bytes already sent wait in the proxy (TCP would keep retransmitting them) and go on
               at the heal; new connections are accepted and stay silent; every call hangs until
               the client's own timeout
``reject``     every open connection is reset (TCP RST) and every new one is reset at once: fast
               failures, as when the dependency's host refuses
``latency``    every chunk in ``direction`` is delivered ``delay_ms`` late (order kept)
=============  =================================================================================

The table, leases and ids are :mod:`chaosaitrapp.faultproxy.table`.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Collection, Dict, Mapping, Optional

from chaosaitrapp.faultproxy import table
from chaosaitrapp.faultproxy.table import FaultError, check_choice, check_lease, check_params

KINDS = ("blackhole", "reject", "latency")
DIRECTIONS = ("both", "to_dependency", "from_dependency")

_PARAMS: Dict[str, Dict[str, table.ParamSpec]] = {
    "blackhole": {"route": (str, "", None, None), "direction": (str, "both", None, None)},
    "reject": {"route": (str, "", None, None)},
    "latency": {"route": (str, "", None, None), "direction": (str, "both", None, None),
                "delay_ms": (float, 500.0, 0.0, 60000.0)},
}


def validator(routes: Collection[str]) -> table.Validator:
    """A ``validate(kind, params, lease_s)`` for a proxy serving ``routes``."""

    def validate(kind: str, params: Optional[Mapping[str, Any]], lease_s: Any) -> Dict[str, Any]:
        if kind not in KINDS:
            raise FaultError(f"unknown network fault {kind!r}; known: {', '.join(KINDS)}")
        check_lease(lease_s, True)
        out = check_params(kind, _PARAMS[kind], params)
        check_choice(kind, "route", out["route"], sorted(routes), " (the routes this proxy serves)")
        if "direction" in out:
            check_choice(kind, "direction", out["direction"], DIRECTIONS)
        return out

    return validate


class FaultTable(table.FaultTable):
    """The TCP proxy's fault table for ``routes``."""

    def __init__(self, routes: Collection[str], clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        super().__init__(validator(routes), (), clock, wall)
