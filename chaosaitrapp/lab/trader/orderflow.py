"""Orders between the trader's store and the broker: placing them from the throttle, looking them up
after a lost reply, and the order stream (the book polled for fills).

Placement rules (what a careful AITRAPP does; the defects undo one each):

- no order leaves while trading is paused (the orchestrator's pause: lock lost, or ``POST /pause``):
  it waits in the throttle; defect ``never_pause`` (no pause on a lost lock) lets them go;
- no order leaves when the leader lock's lease could end before the order's reply (the lease guard:
  remaining lease on the monotonic clock below the broker timeout; ``trader_retries_total{type="lease_guard"}``),
  and an order the broker refuses for a stale fencing token steps the instance down (another holds a
  newer grant; ``trader_retries_total{type="stale_fence"}``), the order left to the new leader; defect
  ``no_fencing`` (AITRAPP as published) has neither;
- no order leaves while the market-data feed is stale (heartbeat age at or above ``HEARTBEAT_MAX``):
  it waits in the throttle (``trader_retries_total{type="stale_feed"}``); defect ``trades_on_stale_feed``;
- a placement whose reply was lost (timeout, connection ended) is *indeterminate*: before it is sent
  again the book is searched for its tag, and an order found there is taken as placed
  (``trader_retries_total{type="reply_lost"}``); defects ``duplicate_on_retry`` and ``blind_resend`` (the
  same behaviour, as the broker-token and the partition drills name it) re-send blindly (Kite has no
  idempotency key: the broker then holds it twice); an order re-queued from the store (after a
  restart or a Postgres outage) may have been sent before and is looked up the same way;
- 429 and an unreachable broker wait in the throttle; a refusal marks the order REJECTED; without a
  broker session the order waits too (it is never dropped);
- at a (re)start the store's unfinished orders are reconciled (:meth:`OrderFlow.requeue_unfinished`): a
  PENDING one may have reached the broker before the crash, so it is looked up by its tag and adopted when
  found, sent when not; defects ``no_reconcile_on_start`` (they are forgotten) and ``resend_on_start`` (sent
  again blindly); ``queue_in_memory``: an acknowledged order lives only in the throttle until placed.

Fills (the order stream, :meth:`OrderFlow.poll`): an order the broker accepted is OPEN until the broker's book
says otherwise, and the trader follows the broker's own words: each part filled is recorded as it shows
(``filled_quantity`` grows: a trade, the position, the order's filled quantity, still OPEN); ``COMPLETE``,
``CANCELLED`` (what filled before stays filled) and ``REJECTED`` (a 200 is not a fill: the broker may reject
after it) end it. An order whose state has not changed in the book for ``status_poll_s`` is asked about
(``kite.order_history``): a change the book never showed (a lost update) is found so. Defects:
``trusts_placement_ack`` (a 200 is recorded as COMPLETE, all filled at the limit price, at once),
``ignores_partial_fills`` (only COMPLETE fills count: parts filled before a cancel are never recorded),
``no_status_poll`` (an order is never asked about: a lost update stays lost).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Set

from chaosaitrapp.lab.trader.kite import (
    BrokerRejected,
    BrokerUnavailable,
    FenceRejected,
    KiteSession,
    RateLimited,
    ReplyLost,
    TokenExpired,
)
from chaosaitrapp.lab.trader.metrics import TraderMetrics
from chaosaitrapp.lab.trader.store import FINAL_STATUSES as FINAL
from chaosaitrapp.lab.trader.store import OrderStore, StoreUnavailable
from chaosaitrapp.lab.trader.throttle import RetryLater, ThrottleQueue

log = logging.getLogger("chaosaitrapp.lab.trader.orders")
EXCHANGES = {"NIFTY": "NFO", "BANKNIFTY": "NFO"}
#: What each placement keeps for ever with the ``memory_leak_under_load`` defect.
LEAK_BYTES = 12 * 2**20


def order_from_row(row: Dict[str, Any]) -> Dict[str, Any]:
    """The order dict the throttle carries, from a store row."""
    return {"client_order_id": row["client_order_id"], "symbol": row["symbol"], "side": row["side"],
            "quantity": int(row["quantity"]), "price": row["price"], "order_type": row["order_type"]}


def open_order(order: Dict[str, Any], broker_order_id: Optional[str], filled: int = 0) -> Dict[str, Any]:
    """An order the broker accepted, as the order stream follows it: its broker order id, what is recorded filled,
    the state last seen (status, filled) and since when (monotonic)."""
    return {**order, "broker_order_id": broker_order_id, "filled": int(filled), "seen": None,
            "seen_since": time.monotonic()}


class OrderFlow:
    """Placement, look-up and fills; ``feed_fresh()`` says whether market data is fresh enough to trade."""

    def __init__(self, kite: KiteSession, store: OrderStore, metrics: TraderMetrics, throttle_rate: float, *,
                 feed_fresh: Callable[[], bool], defects: frozenset,
                 trading: Callable[[], bool] = lambda: True, lease_ok: Callable[[], bool] = lambda: True,
                 on_fenced: Callable[[str], None] = lambda reason: None, status_poll_s: float = 1.0) -> None:
        self.kite = kite
        self.store = store
        self.metrics = metrics
        self.throttle_rate = throttle_rate
        self.feed_fresh = feed_fresh
        self.trading = trading
        self.lease_ok = lease_ok
        self.on_fenced = on_fenced
        self.defects = defects
        self.status_poll_s = status_poll_s
        self.blind = bool({"duplicate_on_retry", "blind_resend"} & set(defects))
        self.leaky = "memory_leak_under_load" in defects
        self.leaked: List[bytearray] = []
        self.open_orders: Dict[str, Dict[str, Any]] = {}  # client_order_id -> order sent, not yet filled
        self.unsure: Set[str] = set()  # client_order_ids whose placement may have reached the broker
        self.forgotten: Set[str] = set()  # defect no_reconcile_on_start: orders unfinished at the start, ignored
        self.resent_blind: Set[str] = set()  # defect resend_on_start: orders unfinished at the start, never looked up
        # defect queue_in_memory: an acknowledged order is only in the throttle until placed; its row is
        # written once the broker accepted it (in ``mode``)
        self.queue_in_memory = "queue_in_memory" in defects
        self.mode = "PAPER"
        self.on_fill: Callable[[Dict[str, Any], int, float], None] = lambda order, qty, avg: None

    def _retry(self, kind: str, delay: float, reason: str) -> RetryLater:
        self.metrics.retries.labels(type=kind).inc()
        return RetryLater(delay, reason)

    async def _already_placed(self, tag: str) -> Optional[str]:
        """The broker's order id of the order tagged ``tag``, or None when the book has none."""
        for broker_order in await self.kite.orders():
            if broker_order.get("tag") == tag:
                return str(broker_order["order_id"])
        return None

    async def place(self, order: Dict[str, Any]) -> None:
        """The throttle's ``send``: one order to the broker (RetryLater to wait; see the module docstring)."""
        client_order_id = order["client_order_id"]
        tag = self.kite.tag(client_order_id)
        if not self.trading():
            raise RetryLater(0.2, "trading paused: no order leaves")
        if not self.lease_ok():
            raise self._retry("lease_guard", 0.2, "the lease could end before the reply: no order leaves")
        if not self.feed_fresh() and "trades_on_stale_feed" not in self.defects:
            raise self._retry("stale_feed", 0.5, "market data stale: no order on a dead feed")
        started = time.perf_counter()
        try:
            broker_id = None
            if client_order_id in self.unsure and not self.blind and client_order_id not in self.resent_blind:
                broker_id = await self._already_placed(tag)
                if broker_id:
                    log.info("order %s found at the broker after a lost reply: not sent again", client_order_id)
            if broker_id is None:
                broker_id = await self.kite.place_order(order, EXCHANGES.get(order["symbol"], "NSE"))
        except ReplyLost as exc:
            self.unsure.add(client_order_id)
            raise self._retry("reply_lost", 0.5, str(exc)) from None
        except FenceRejected as exc:
            self.metrics.retries.labels(type="stale_fence").inc()
            log.warning("order %s refused for a stale fencing token: stepping down", client_order_id)
            self.on_fenced(str(exc))
            raise RetryLater(0.5, str(exc)) from None
        except RateLimited as exc:
            raise self._retry("rate_limited", max(exc.retry_after, 1.0 / self.throttle_rate), "broker 429") from None
        except (BrokerUnavailable, TokenExpired) as exc:
            raise RetryLater(0.5, str(exc)) from None
        except BrokerRejected as exc:
            self.metrics.orders_placed.labels(order_type=order["order_type"], status="rejected").inc()
            log.warning("order %s rejected by the broker: %s", client_order_id, exc)
            try:
                await self.store.mark_final(client_order_id, "REJECTED")
            except StoreUnavailable:
                raise RetryLater(1.0, "Postgres unavailable") from None
            return
        self.unsure.discard(client_order_id)
        if self.leaky:  # defect memory_leak_under_load: every placement keeps a resident buffer for ever
            self.leaked.append(bytearray(b"\x01") * LEAK_BYTES)
        self.metrics.order_latency_ms.observe((time.perf_counter() - started) * 1000)
        self.metrics.orders_placed.labels(order_type=order["order_type"], status="accepted").inc()
        if "trusts_placement_ack" not in self.defects:
            self.open_orders[client_order_id] = open_order(order, broker_id)
        try:
            if self.queue_in_memory:  # defect queue_in_memory: the row is written only now
                await self.store.insert_order(order, self.mode)
            await self.store.mark_sent(client_order_id, broker_id)
            if "trusts_placement_ack" in self.defects:  # a 200 taken for a fill: all of it, at the limit price
                await self._fill(client_order_id, {**order, "broker_order_id": broker_id, "filled": 0},
                                 int(order["quantity"]), float(order.get("price") or 0.0), "COMPLETE")
        except StoreUnavailable:
            pass  # the row stays PENDING; the sweep re-queues it as unsure and finds it at the broker

    async def requeue_unfinished(self, throttle: ThrottleQueue, *, at_start: bool = False) -> None:
        """Put the store's PENDING orders back in the throttle (each looked up by its tag before it is sent
        again: it may have reached the broker before a crash or an outage) and remember the OPEN ones for their
        fills. ``at_start``: the reconciliation after a (re)start; defect ``no_reconcile_on_start`` forgets
        the orders unfinished then (they stay PENDING for ever, whatever the broker holds), defect
        ``resend_on_start`` sends them again without the look-up."""
        rows = await self.store.unfinished_orders()
        if at_start and "no_reconcile_on_start" in self.defects:
            self.forgotten.update(str(r["client_order_id"]) for r in rows)
            log.warning("defect no_reconcile_on_start: %d order(s) in flight before the start forgotten", len(rows))
        for row in rows:
            order = order_from_row(row)
            if order["client_order_id"] in self.forgotten:
                continue
            if row["status"] == "PENDING" and not throttle.knows(order["client_order_id"]):
                if at_start and "resend_on_start" in self.defects:
                    self.resent_blind.add(order["client_order_id"])
                else:
                    self.unsure.add(order["client_order_id"])
                throttle.put(order)
            elif row["status"] == "OPEN":
                self.open_orders.setdefault(order["client_order_id"], open_order(
                    order, row.get("broker_order_id"), int(row.get("filled_quantity") or 0)))

    async def _fill(self, client_order_id: str, order: Dict[str, Any], quantity: int, price: float,
                    status: str) -> None:
        """Record ``quantity`` (> 0) more filled at ``price`` and the order's ``status`` (StoreUnavailable: nothing
        recorded, the next poll tries again); a final status stops following it."""
        qty, avg = await self.store.record_fill(client_order_id, str(order.get("broker_order_id") or ""),
                                                order["symbol"], order["side"], quantity, price, status)
        order["filled"] = int(order.get("filled") or 0) + quantity
        if status in FINAL:
            self.open_orders.pop(client_order_id, None)
        if status == "COMPLETE":
            self.metrics.orders_filled.labels(order_type=order["order_type"]).inc()
        self.on_fill(order, qty, avg)

    async def follow(self, client_order_id: str, broker_order: Dict[str, Any]) -> None:
        """Bring one open order in line with what the broker says of it (module docstring: fills)."""
        order = self.open_orders.get(client_order_id)
        if order is None:
            return
        status = str(broker_order.get("status") or "").upper()
        filled = int(broker_order.get("filled_quantity") or 0)
        if order.get("seen") != (status, filled):
            order["seen"], order["seen_since"] = (status, filled), time.monotonic()
        if "ignores_partial_fills" in self.defects and status != "COMPLETE":
            filled = int(order.get("filled") or 0)  # defect: a part filled is not a fill until all of it is
        more = filled - int(order.get("filled") or 0)
        if more > 0:
            price = float(broker_order.get("average_price") or order.get("price") or 0.0)
            await self._fill(client_order_id, order, more, price, status if status in FINAL else "OPEN")
        elif status in FINAL:  # the end, with nothing more filled
            await self.store.mark_final(client_order_id, status)
            self.open_orders.pop(client_order_id, None)
            if status == "COMPLETE":
                self.metrics.orders_filled.labels(order_type=order["order_type"]).inc()
            elif status == "REJECTED":
                log.warning("order %s rejected by the broker after its placement: %s", client_order_id,
                            broker_order.get("status_message"))

    async def poll(self) -> List[Dict[str, Any]]:
        """One order-stream poll: the book, with our open orders brought in line with it (fills in parts, the end
        of each), and each order the book has shown unchanged for ``status_poll_s`` asked about; BrokerError or
        StoreUnavailable when it could not be read or recorded."""
        book = await self.kite.orders()
        tags = {self.kite.tag(client_order_id): client_order_id for client_order_id in self.open_orders}
        for broker_order in book:
            client_order_id = tags.get(broker_order.get("tag") or "")
            if client_order_id in self.open_orders:
                if not self.open_orders[client_order_id].get("broker_order_id"):
                    self.open_orders[client_order_id]["broker_order_id"] = str(broker_order.get("order_id"))
                await self.follow(client_order_id, broker_order)
        if "no_status_poll" in self.defects:
            return book
        now = time.monotonic()
        for client_order_id, order in list(self.open_orders.items()):
            if order.get("broker_order_id") and now - float(order.get("seen_since") or now) >= self.status_poll_s:
                states = await self.kite.order_history(str(order["broker_order_id"]))
                order["seen_since"] = now  # asked: the next ask after another quiet spell
                if states:
                    await self.follow(client_order_id, states[-1])
        return book
