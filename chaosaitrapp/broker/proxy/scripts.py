"""The broker fault proxy's scripted orders: an order placed while an order-state fault is active is shown, from
then on, as its script says (:mod:`chaosaitrapp.kitestates`), in the order book (``GET /orders``) and in the
order's history (``GET /orders/{order_id}``), whatever the upstream says of it.

Kept in the proxy's memory only (at most :data:`MAX_SCRIPTS` orders, the oldest forgotten first): a proxy started
again shows every order as its upstream does. ``lost_update``'s stale book lasts while its fault is active.
"""
from __future__ import annotations

import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from chaosaitrapp import kitestates

MAX_SCRIPTS = 10000
#: ``GET /orders/{order_id}``: the one path segment after ``/orders/`` (placements are POSTs).
ORDER_PATH = "/orders/"


@dataclass
class Scripted:
    """One scripted order: its script, when its placement was answered (wall clock), the fault that made it and the
    price its fills show (the placement's limit price, else None: the upstream's)."""

    order_id: str
    kind: str
    fault_id: str
    states: List[List[Any]]
    answered_wall: float
    price: Optional[float]

    def now(self, wall: float) -> tuple:
        """``(status, filled, message)`` at wall time ``wall``."""
        return kitestates.state_at(self.states, wall - self.answered_wall)


class Scripts:
    """The scripted orders by broker order id; ``active(fault_id)`` says whether a fault is still in force and
    ``wall`` is the clock the scripts run on."""

    def __init__(self, active: Callable[[str], bool], wall: Callable[[], float] = time.time) -> None:
        self.active = active
        self.wall = wall
        self.by_id: "OrderedDict[str, Scripted]" = OrderedDict()

    def add(self, order_id: str, kind: str, fault_id: str, params: Dict[str, Any], form: Dict[str, str]) -> Scripted:
        """Script the order ``order_id`` just answered (its placement ``form``: quantity, price) under ``kind``."""
        try:
            quantity = int(form.get("quantity") or 1)
        except ValueError:
            quantity = 1
        try:
            price = float(form.get("price") or 0) or None
        except ValueError:
            price = None
        states = [list(s) for s in kitestates.script(kind, params, quantity)]
        scripted = Scripted(order_id, kind, fault_id, states, round(self.wall(), 6), price)
        self.by_id[order_id] = scripted
        while len(self.by_id) > MAX_SCRIPTS:
            self.by_id.popitem(last=False)
        return scripted

    def _shown(self, scripted: Scripted, in_book: bool) -> tuple:
        if in_book and scripted.kind == "lost_update" and self.active(scripted.fault_id):
            return kitestates.state_at(scripted.states, 0.0)  # the book never heard of the change
        return scripted.now(self.wall())

    def book(self, orders: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The order book with every scripted order shown as its script says now."""
        out = []
        for order in orders:
            scripted = self.by_id.get(str(order.get("order_id"))) if isinstance(order, dict) else None
            if scripted is None:
                out.append(order)
                continue
            status, filled, message = self._shown(scripted, in_book=True)
            out.append(kitestates.kite_view(order, status, filled, message, scripted.price))
        return out

    def history(self, order_id: str, states: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """An order's history (``GET /orders/{order_id}``) as its script says up to now (the upstream's last state
        as the template of each)."""
        scripted = self.by_id.get(order_id)
        if scripted is None or not states or not isinstance(states[-1], dict):
            return states
        elapsed = self.wall() - scripted.answered_wall
        shown = [s for s in scripted.states if float(s[0]) <= elapsed] or scripted.states[:1]
        return [kitestates.kite_view(states[-1], s[1], int(s[2]), s[3], scripted.price) for s in shown]

    def rewrite(self, path: str, body: bytes) -> Optional[bytes]:
        """The body of a ``GET`` answer under ``path`` with the scripted orders shown as scripted, or None when it
        shows none (or is not Kite's ``{"status": "success", "data": ...}``)."""
        if not self.by_id or not (path.rstrip("/") == "/orders" or path.startswith(ORDER_PATH)):
            return None
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            return None
        if path.rstrip("/") == "/orders":
            payload["data"] = self.book(data)
        else:
            order_id = path[len(ORDER_PATH):].strip("/")
            if "/" in order_id or order_id not in self.by_id:
                return None
            payload["data"] = self.history(order_id, data)
        return json.dumps(payload).encode()
