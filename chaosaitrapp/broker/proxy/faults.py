"""The broker faults the proxy knows, as data: what each kind does, its parameters, its lease (the
table itself is :mod:`chaosaitrapp.faultproxy.table`).

A fault lives in the proxy's memory only, for at most its lease: it expires by itself there (a proxy
that is restarted, or killed and started again, has no fault at all), and the extension's fault
ledger undoes it from outside (DELETE) when the drill ends or dies.

=========================  ==========================================================================
kind                       what the target sees while it is active
=========================  ==========================================================================
``token_invalidated``      every REST call and ticker handshake with a token seen before the fault
                           gets 403 ``TokenException``; a token the target obtains afterwards (a
                           refresh through the proxy) passes, the old one stays refused
``rate_limit``             every order placement gets 429 ``NetworkException`` "Too many requests"
                           with ``Retry-After`` (``retry_after`` s, default 1)
``server_error``           calls whose path starts with ``path`` (default ``/orders``) get
                           ``status`` (default 503) ``NetworkException``
``latency``                every REST answer is held back ``delay_ms`` (default 500)
``partition``              the path to the broker is cut (a blackhole): ``direction`` ``both``
                           (requests are held, never forwarded), ``requests`` (the same),
                           ``replies`` (requests reach the broker, answers are held back); every
                           ticker socket stalls both ways. Held requests and answers go on at the
                           heal if their client is still waiting (TCP would retransmit them);
                           ``instance`` (default: every sender) limits it to the REST calls of the
                           instance whose ``X-AITRAPP-Instance`` it names (its ticker is not stalled):
                           the split-brain drill's order still on the wire
``drop_reply``             an order placement reaches the broker (the order exists there) but its
                           reply never comes: the connection is held ``hold_s`` (default 10, above
                           KiteConnect's 7 s timeout) then closed; for ``count`` placements (default
                           1; -1: every one while the fault is active)
``hold_reply``             an order placement reaches the broker (the order exists there) and its
                           reply is held for as long as the fault lasts: cleared (or at its lease's
                           end) the reply goes on if the client still waits, else it is lost; for
                           ``count`` placements (default 1; -1: every one while the fault is active).
                           The crash drills' instant: the broker has acknowledged, the target has not
                           heard (``after_broker_ack``: killed now; ``after_reply``: killed just after
                           the reply is let go)
``pending_then_cancelled``, ``rejected_after_ack``, ``partial_fill``, ``lost_update``, ``late_update``
                           (order states) an order placement answered 200 while the fault is active
                           (``count`` of them, default -1: every one) is shown from then on as the
                           script of :mod:`chaosaitrapp.kitestates` says (in ``GET /orders`` and
                           ``GET /orders/{order_id}``), whatever the upstream says of it; the script
                           outlives the fault (an order the broker cancelled stays cancelled), except
                           ``lost_update``'s stale book, which lasts as long as the fault
``ws_stall``               ticker sockets stay open but nothing flows to the target: no ticks, no
                           heartbeats (a blackhole); ``scope`` ``existing`` (default: the sockets
                           open at injection, a dead connection that a reconnect escapes) or ``all``
``ws_refuse``              new ticker handshakes get HTTP 403
``ws_close``               (instant) every open ticker socket is closed with ``code`` (1000, 1011;
                           1006: the connection is dropped without a close frame)
``ws_drop_subscriptions``  (instant) the broker forgets the sockets' subscriptions (the proxy
                           unsubscribes them upstream); a resubscribe brings the ticks back
=========================  ==========================================================================
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Mapping, Optional

from chaosaitrapp import kitestates
from chaosaitrapp.faultproxy import table
from chaosaitrapp.faultproxy.table import MAX_LEASE_S, Fault, FaultError, check_choice, check_lease, check_params

__all__ = ["HELD", "INSTANT", "ORDER_STATES", "KINDS", "CLOSE_CODES", "MAX_LEASE_S", "Fault", "FaultError", "FaultTable", "validate"]

#: The order-state kinds (:mod:`chaosaitrapp.kitestates`).
ORDER_STATES = kitestates.KINDS
HELD = ("token_invalidated", "rate_limit", "server_error", "latency", "drop_reply", "hold_reply", "partition",
        "ws_stall", "ws_refuse") + ORDER_STATES
INSTANT = ("ws_close", "ws_drop_subscriptions")
KINDS = HELD + INSTANT
CLOSE_CODES = (1000, 1006, 1011)
PARTITION_DIRECTIONS = ("both", "requests", "replies")

_PARAMS: Dict[str, Dict[str, table.ParamSpec]] = {
    "rate_limit": {"retry_after": (float, 1.0, 0.0, 60.0)},
    "server_error": {"status": (int, 503, 500, 599), "path": (str, "/orders", None, None)},
    "latency": {"delay_ms": (float, 500.0, 0.0, 60000.0)},
    "drop_reply": {"hold_s": (float, 10.0, 0.0, 120.0), "count": (int, 1, -1, 100000)},
    "hold_reply": {"count": (int, 1, -1, 100000)},
    "partition": {"direction": (str, "both", None, None), "instance": (str, "", None, None)},
    "ws_close": {"code": (int, 1006, None, None)},
    "ws_stall": {"scope": (str, "existing", None, None)},
    **kitestates.PARAMS,
}


def validate(kind: str, params: Optional[Mapping[str, Any]], lease_s: Any) -> Dict[str, Any]:
    """The fault's parameters with defaults filled in; FaultError naming what is wrong."""
    if kind not in KINDS:
        raise FaultError(f"unknown broker fault {kind!r}; known: {', '.join(KINDS)}")
    check_lease(lease_s, kind in HELD)
    out = check_params(kind, _PARAMS.get(kind, {}), params)
    if kind in ("drop_reply", "hold_reply") + ORDER_STATES and out["count"] == 0:
        raise FaultError(f"{kind}: count must be at least 1 (how many replies) or -1 (every one)")
    if kind == "ws_close":
        check_choice(kind, "code", out["code"], CLOSE_CODES)
    if kind == "ws_stall":
        check_choice(kind, "scope", out["scope"], ("existing", "all"),
                     " ('existing': the sockets open now, a dead connection a reconnect escapes)")
    if kind == "partial_fill":
        check_choice(kind, "rest", out["rest"], kitestates.PARTIAL_RESTS,
                     " ('cancelled': the last part never fills, the rest is cancelled)")
    if kind == "partition":
        check_choice(kind, "direction", out["direction"], PARTITION_DIRECTIONS,
                     " ('replies': requests reach the broker, answers never come back)")
    return out


class FaultTable(table.FaultTable):
    """The broker proxy's fault table (its kinds, :func:`validate`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        super().__init__(validate, INSTANT, clock, wall)
