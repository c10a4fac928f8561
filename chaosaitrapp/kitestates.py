"""Kite order statuses, and the order-state scripts the broker fault proxy plays for an order (pure).

Kite's statuses: an order waits as ``PUT ORDER REQ RECEIVED``, ``VALIDATION PENDING``, ``OPEN PENDING``,
``TRIGGER PENDING``, ``MODIFY PENDING``, ``CANCEL PENDING`` or ``OPEN`` (filling: ``filled_quantity`` grows, the
rest is ``pending_quantity``) and ends ``COMPLETE`` (all filled), ``CANCELLED`` (the rest cancelled, by the user
or the exchange: ``cancelled_quantity``; what filled before stays filled) or ``REJECTED`` (by the broker's risk
system or the exchange, after a placement answered 200: ``status_message`` says why).

A script is what the broker shows of one order over time, from the instant the placement was answered: a list of
``(offset_s, status, filled_quantity, status_message)``, the first at offset 0. :func:`script` makes one per
order-state fault (:data:`KINDS`, parameters :data:`PARAMS`); :func:`state_at` reads it at an instant. The proxy
shows the script instead of what its upstream says of that order; the checks read the same script from the
proxy's history, so both judge by one truth.

=========================  ==========================================================================
kind                       what the broker shows of an order placed while the fault is active
=========================  ==========================================================================
``pending_then_cancelled`` ``OPEN PENDING`` (nothing filled) for ``pending_s`` (default 5), then
                           ``CANCELLED`` by the exchange, nothing filled
``rejected_after_ack``     the placement answered 200 with an order id; ``VALIDATION PENDING`` for
                           ``after_s`` (default 1), then ``REJECTED`` with the risk system's reason
``partial_fill``           ``OPEN``, filled in ``parts`` (default 3) parts ``interval_s`` apart (default
                           1); ``rest`` ``cancelled`` (default: the last part never fills, the rest is
                           ``CANCELLED`` with the earlier parts filled) or ``complete``
``lost_update``            ``OPEN``, then ``COMPLETE`` after ``after_s`` (default 1); while the fault is
                           active the order book (``GET /orders``) keeps showing it ``OPEN`` with nothing
                           filled: only asking about the order (``GET /orders/{order_id}``) tells
``late_update``            ``OPEN`` with nothing filled for ``delay_s`` (default 8), then ``COMPLETE``:
                           the fill's status arrives long after the placement
=========================  ==========================================================================
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

#: Statuses an order ends in.
FINAL = frozenset({"COMPLETE", "CANCELLED", "REJECTED"})
#: The order-state kinds, in the order the docs list them.
KINDS = ("pending_then_cancelled", "rejected_after_ack", "partial_fill", "lost_update", "late_update")
#: Each kind's parameters: ``name: (type, default, minimum, maximum)`` (``count``: how many placements it scripts,
#: -1 every one while the fault is active).
PARAMS: Dict[str, Dict[str, Tuple[type, Any, Optional[float], Optional[float]]]] = {
    "pending_then_cancelled": {"pending_s": (float, 5.0, 0.0, 600.0), "count": (int, -1, -1, 100000)},
    "rejected_after_ack": {"after_s": (float, 1.0, 0.0, 600.0), "count": (int, -1, -1, 100000)},
    "partial_fill": {"parts": (int, 3, 2, 100), "interval_s": (float, 1.0, 0.0, 600.0),
                     "rest": (str, "cancelled", None, None), "count": (int, -1, -1, 100000)},
    "lost_update": {"after_s": (float, 1.0, 0.0, 600.0), "count": (int, -1, -1, 100000)},
    "late_update": {"delay_s": (float, 8.0, 0.0, 600.0), "count": (int, -1, -1, 100000)},
}
PARTIAL_RESTS = ("cancelled", "complete")
CANCELLED_BY_EXCHANGE = "Your order has been cancelled by the exchange."
REJECTED_BY_RMS = "RMS:Margin Exceeds, Required:0, Available:0 for entity account-LAB001 across exchange across segment"

State = Tuple[float, str, int, Optional[str]]


def _parts(quantity: int, parts: int) -> List[int]:
    """``quantity`` split into ``parts`` parts as even as they go (at most ``quantity`` parts, each at least 1)."""
    parts = max(1, min(parts, quantity))
    base, extra = divmod(quantity, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def script(kind: str, params: Mapping[str, Any], quantity: int) -> List[State]:
    """The states the broker shows of an order of ``quantity`` under order-state fault ``kind`` (module docstring);
    ValueError for an unknown kind."""
    quantity = max(1, int(quantity))
    if kind == "pending_then_cancelled":
        return [(0.0, "OPEN PENDING", 0, None), (float(params["pending_s"]), "CANCELLED", 0, CANCELLED_BY_EXCHANGE)]
    if kind == "rejected_after_ack":
        return [(0.0, "VALIDATION PENDING", 0, None), (float(params["after_s"]), "REJECTED", 0, REJECTED_BY_RMS)]
    if kind == "partial_fill":
        interval, parts = float(params["interval_s"]), _parts(quantity, int(params["parts"]))
        states: List[State] = [(0.0, "OPEN", 0, None)]
        filled = 0
        last = len(parts) if params.get("rest", "cancelled") == "complete" else len(parts) - 1
        for index in range(last):
            filled += parts[index]
            done = filled >= quantity
            states.append((interval * (index + 1), "COMPLETE" if done else "OPEN", filled, None))
        if filled < quantity:
            states.append((interval * len(parts), "CANCELLED", filled, CANCELLED_BY_EXCHANGE))
        return states
    if kind == "lost_update":
        return [(0.0, "OPEN", 0, None), (float(params["after_s"]), "COMPLETE", quantity, None)]
    if kind == "late_update":
        return [(0.0, "OPEN", 0, None), (float(params["delay_s"]), "COMPLETE", quantity, None)]
    raise ValueError(f"unknown order state {kind!r}; known: {', '.join(KINDS)}")


def state_at(states: Sequence[Sequence[Any]], elapsed_s: float) -> Tuple[str, int, Optional[str]]:
    """``(status, filled_quantity, status_message)`` of a script ``elapsed_s`` after its order was answered."""
    current = states[0]
    for state in states:
        if float(state[0]) <= elapsed_s:
            current = state
    return str(current[1]), int(current[2]), current[3]


def settles_at(states: Sequence[Sequence[Any]]) -> float:
    """The offset of a script's last change (its final state's)."""
    return float(states[-1][0])


def is_final(status: str) -> bool:
    """True for a status an order ends in."""
    return str(status).upper() in FINAL


def kite_view(order: Mapping[str, Any], status: str, filled: int, message: Optional[str],
              price: Optional[float]) -> Dict[str, Any]:
    """A Kite order dict (``GET /orders``) showing ``status``, ``filled`` and ``message`` instead of its own; its
    ``average_price`` is ``price`` (else the order's own, else its limit price) once anything filled."""
    quantity = int(order.get("quantity") or 0)
    fill_price = price or float(order.get("average_price") or 0) or float(order.get("price") or 0)
    return {**order, "status": status, "status_message": message, "filled_quantity": filled,
            "pending_quantity": 0 if is_final(status) else quantity - filled,
            "cancelled_quantity": quantity - filled if status == "CANCELLED" else 0,
            "average_price": fill_price if filled else 0}
