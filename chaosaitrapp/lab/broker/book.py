"""The simulated order book: Kite's order placement rules, its rate limits, fills and history.

``POST /orders/{variety}`` (form-encoded) is validated as Kite does (variety, exchange + tradingsymbol of
a tradable instrument, transaction type, order type, product, a positive quantity, a price for LIMIT,
a ``tag`` of at most 20 alphanumeric characters) and answers ``{"order_id"}``. Kite has no idempotency
key: a second placement with the same tag is a second order; a client that resends must look its
order up by tag first. Beyond ``rate_limit`` orders in any second (or ``rate_limit_minute`` in any
minute) it answers 429 ``NetworkException`` "Too many requests". Orders are ``OPEN`` and then
``COMPLETE`` after ``fill_delay``. Every accepted order is also kept in :attr:`OrderBook.received` with
the broker's own monotonic receive time (the history the checkers read).

Fencing (the split-brain fix the lab trader implements): a placement may carry a fencing token in
``X-AITRAPP-Fence`` (a number that grows with every leader-lock grant). The book remembers the
highest token it has accepted and refuses an older one with 403 ``PermissionException`` "stale
fencing token" (nothing is placed): an instance that lost its lease while paused cannot trade on
after its successor did. Placements without the header (AITRAPP as published) are not checked.
"""
from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional

from chaosaitrapp import aitrapp
from chaosaitrapp.lab.broker.instruments import tradable
from chaosaitrapp.lab.broker.market import Market

VARIETIES = ("regular", "amo", "co", "iceberg", "auction")
ORDER_TYPES = ("MARKET", "LIMIT", "SL", "SL-M")
PRODUCTS = ("CNC", "NRML", "MIS", "MTF")
TAG = re.compile(r"^[A-Za-z0-9]{1,20}$")
FENCE_HEADER = aitrapp.FENCE_HEADER.lower()
STALE_FENCE = "stale fencing token"


class OrderRefused(Exception):
    """A refused placement: Kite's ``error_type``, HTTP ``status`` and ``retry_after`` (for 429)."""

    def __init__(self, message: str, error_type: str, status: int, retry_after: Optional[float] = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status
        self.retry_after = retry_after


def _stamp(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class Order:
    """One order as the broker keeps it."""

    order_id: str
    variety: str
    exchange: str
    tradingsymbol: str
    transaction_type: str
    order_type: str
    product: str
    quantity: int
    price: float
    tag: Optional[str]
    placed_wall: float
    placed_mono: float
    headers: Dict[str, str] = field(default_factory=dict)
    fill_price: Optional[float] = None


class OrderBook:
    """Orders, rate windows and fills. ``clock``/``wall`` are injectable (monotonic and Unix seconds)."""

    def __init__(self, market: Market, *, rate_limit: int = 10, rate_limit_minute: int = 300,
                 fill_delay: float = 0.1, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.market = market
        self.rate_limit = rate_limit
        self.rate_limit_minute = rate_limit_minute
        self.fill_delay = fill_delay
        self.clock = clock
        self.wall = wall
        self.orders: List[Order] = []
        self.by_id: Dict[str, Order] = {}
        self.window: Deque[float] = deque()
        self.next_id = 261201000000000
        self.rejected_429 = 0
        self.highest_fence: Optional[int] = None
        self.rejected_fence = 0

    def _rate_wait(self) -> float:
        """0 and count the order when within both limits, else seconds until a slot frees."""
        now = self.clock()
        while self.window and now - self.window[0] >= 60.0:
            self.window.popleft()
        last_second = [t for t in self.window if now - t < 1.0]
        if len(last_second) >= self.rate_limit:
            return max(0.01, 1.0 - (now - last_second[0]))
        if len(self.window) >= self.rate_limit_minute:
            return max(0.01, 60.0 - (now - self.window[0]))
        self.window.append(now)
        return 0.0

    def place(self, variety: str, form: Mapping[str, str], headers: Optional[Mapping[str, str]] = None) -> Order:
        """Validate and accept one placement; OrderRefused (400 InputException, 429 NetworkException)."""
        if variety not in VARIETIES:
            raise OrderRefused(f"Invalid `variety`: {variety}", "InputException", 400)
        missing = [k for k in ("exchange", "tradingsymbol", "transaction_type", "quantity", "product", "order_type")
                   if not form.get(k)]
        if missing:
            raise OrderRefused(f"Missing `{missing[0]}`.", "InputException", 400)
        instrument = tradable(form["exchange"], form["tradingsymbol"])
        if instrument is None:
            raise OrderRefused(f"Invalid `tradingsymbol` {form['exchange']}:{form['tradingsymbol']}.",
                               "InputException", 400)
        if form["transaction_type"] not in ("BUY", "SELL"):
            raise OrderRefused("Invalid `transaction_type`.", "InputException", 400)
        if form["order_type"] not in ORDER_TYPES or form["product"] not in PRODUCTS:
            raise OrderRefused("Invalid `order_type` or `product`.", "InputException", 400)
        try:
            quantity = int(form["quantity"])
            price = float(form.get("price") or 0)
        except ValueError:
            raise OrderRefused("Invalid `quantity` or `price`.", "InputException", 400) from None
        if quantity <= 0 or (form["order_type"] == "LIMIT" and price <= 0):
            raise OrderRefused("Invalid `quantity` or missing `price`.", "InputException", 400)
        tag = form.get("tag") or None
        if tag is not None and not TAG.match(tag):
            raise OrderRefused("Invalid `tag`: alphanumeric, at most 20 characters.", "InputException", 400)
        self._check_fence(headers or {})
        wait = self._rate_wait()
        if wait > 0:
            self.rejected_429 += 1
            raise OrderRefused("Too many requests", "NetworkException", 429, retry_after=wait)
        self.next_id += 1
        order = Order(str(self.next_id), variety, form["exchange"], form["tradingsymbol"], form["transaction_type"],
                      form["order_type"], form["product"], quantity, price, tag, self.wall(), self.clock(),
                      dict(headers or {}))
        self.orders.append(order)
        self.by_id[order.order_id] = order
        return order

    def _check_fence(self, headers: Mapping[str, str]) -> None:
        """Refuse a fencing token older than the highest accepted one (module docstring); remember a newer one."""
        raw = next((v for k, v in headers.items() if k.lower() == FENCE_HEADER), None)
        if raw is None:
            return
        try:
            fence = int(raw)
        except ValueError:
            raise OrderRefused(f"Invalid fencing token {raw!r}.", "InputException", 400) from None
        if self.highest_fence is not None and fence < self.highest_fence:
            self.rejected_fence += 1
            raise OrderRefused(f"{STALE_FENCE} {fence}: {self.highest_fence} has been seen", "PermissionException", 403)
        self.highest_fence = fence

    def status(self, order: Order) -> str:
        """``OPEN`` until ``fill_delay`` has passed, then ``COMPLETE``."""
        return "COMPLETE" if self.clock() - order.placed_mono >= self.fill_delay else "OPEN"

    def view(self, order: Order) -> Dict[str, Any]:
        """The order as ``GET /orders`` shows it (Kite's fields)."""
        status = self.status(order)
        instrument = tradable(order.exchange, order.tradingsymbol)
        if status == "COMPLETE" and order.fill_price is None:
            order.fill_price = order.price if order.order_type == "LIMIT" else self.market.last_price(instrument.token)
        filled = order.quantity if status == "COMPLETE" else 0
        return {
            "order_id": order.order_id, "exchange_order_id": f"1100000{order.order_id[-9:]}", "parent_order_id": None,
            "status": status, "status_message": None, "placed_by": "LAB001", "variety": order.variety,
            "exchange": order.exchange, "tradingsymbol": order.tradingsymbol, "instrument_token": instrument.token,
            "transaction_type": order.transaction_type, "order_type": order.order_type, "product": order.product,
            "validity": "DAY", "quantity": order.quantity, "filled_quantity": filled,
            "pending_quantity": order.quantity - filled, "cancelled_quantity": 0, "price": order.price,
            "trigger_price": 0, "average_price": order.fill_price if status == "COMPLETE" else 0,
            "order_timestamp": _stamp(order.placed_wall), "exchange_timestamp": _stamp(order.placed_wall),
            "tag": order.tag, "tags": [order.tag] if order.tag else [],
        }

    def history(self, order_id: str) -> List[Dict[str, Any]]:
        """The order's states, oldest first (``GET /orders/{order_id}``); KeyError for an unknown id."""
        order = self.by_id[order_id]
        final = self.view(order)
        states = [{**final, "status": "OPEN", "filled_quantity": 0, "pending_quantity": order.quantity,
                   "average_price": 0}]
        if final["status"] == "COMPLETE":
            states.append(final)
        return states
