"""The trader's moving parts wired together: lock loop, orchestrator loops, throttle, store, feed.

:class:`Trader` owns every background task (started by :meth:`Trader.start`, stopped by
:meth:`Trader.stop`) and the in-memory view the API reads (positions, trades, leader state).
Routes (``routes.py``) stay thin and call it.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, List, Set, Tuple

from chaosaitrapp.lab.trader.broker_client import (BrokerClient, BrokerError, BrokerRejected,
                                                   BrokerUnavailable, RateLimited)
from chaosaitrapp.lab.trader.leadership import LeaderElector
from chaosaitrapp.lab.trader.lock import LeaderLock, make_redis
from chaosaitrapp.lab.trader.marketdata import MarketDataFeed
from chaosaitrapp.lab.trader.metrics import SUPERVISOR_STATES, TraderMetrics
from chaosaitrapp.lab.trader.orchestrator import LOCK_LOST, Orchestrator
from chaosaitrapp.lab.trader.settings import TraderSettings
from chaosaitrapp.lab.trader.store import OrderStore, StoreUnavailable
from chaosaitrapp.lab.trader.throttle import RetryLater, ThrottleQueue

log = logging.getLogger("chaosaitrapp.lab.trader")

SWEEP_EVERY = 2.0  # seconds between sweeps for accepted orders that are in no queue


class Trader:
    """The running trader (one per process)."""

    def __init__(self, settings: TraderSettings, metrics: TraderMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.profile = settings.profile
        self.defects = settings.defects
        self.mode = settings.mode
        self.api_paused = False
        self.orchestrator = Orchestrator()
        metrics.bind_heartbeats(self.orchestrator.age)
        self.redis = make_redis(settings.redis_url, self.profile.redis_socket_timeout)
        self.lock = LeaderLock(self.redis, settings.instance_id, self.profile.lock_ttl, settings.lock_key)
        self.elector = LeaderElector(
            self.lock,
            refresh=self.profile.lock_refresh,
            backoff=self.profile.backoff,
            jitter=self.profile.jitter,
            on_acquired=self._on_acquired,
            on_lost=self._on_lost,
            never_reacquire="never_reacquire" in self.defects,
        )
        self.store = OrderStore(settings.database_url, connect_timeout=self.profile.pg_connect_timeout,
                                allow_duplicates="duplicate_orders" in self.defects,
                                instance_id=settings.instance_id)
        self.broker = BrokerClient(settings.broker_url, settings.broker_api_key, settings.broker_api_secret,
                                   self.profile.broker_timeout,
                                   on_token_refresh=lambda: metrics.retries.labels(type="token_refresh").inc())
        self.throttle = ThrottleQueue(self._place, rate=settings.throttle_rate, burst=settings.throttle_burst,
                                      on_depth=metrics.set_queue_depth)
        self.feed = MarketDataFeed(settings.broker_ws_url, self._on_tick, reconnect_delay=self.profile.md_reconnect)
        self.open_orders: Dict[str, Dict[str, Any]] = {}  # client_order_id -> order sent, not yet filled
        self.positions: Dict[str, Tuple[int, float]] = {}
        self.trades_today = 0
        self.order_stream_ok = False
        self._tasks: List[asyncio.Task] = []
        self._side_tasks: Set[asyncio.Task] = set()
        self._last_sweep = 0.0

    # ---- leadership -------------------------------------------------------------------------
    @property
    def leader_value(self) -> int:
        """1 leader, 0 not, 999 when the lock was never taken (the contract's quirk)."""
        if self.elector.state == "never":
            return 999
        return 1 if self.elector.is_leader else 0

    def _on_acquired(self) -> None:
        self.metrics.set_leader(True)
        self.metrics.leader_changes.inc()
        self.orchestrator.resume(LOCK_LOST)
        self.background(self.audit("leader_acquired", {}))

    def _on_lost(self, reason: str) -> None:
        self.metrics.set_leader(False)
        if "stale_heartbeats" in self.defects:
            self.orchestrator.freeze_heartbeats()
        if "never_pause" not in self.defects:
            self.orchestrator.pause(LOCK_LOST)
            self.metrics.kill_switch.labels(reason="leader_lock_lost").inc()
        self.background(self.audit("leader_lost", {"reason": reason}))

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every background loop."""
        await self._load_from_store()
        self._tasks = [
            asyncio.create_task(self.elector.run(), name="leader-lock"),
            asyncio.create_task(self._scan_loop(), name="scan"),
            asyncio.create_task(self._order_stream_loop(), name="order-stream"),
            asyncio.create_task(self.feed.run(), name="market-data"),
            asyncio.create_task(self.throttle.run(), name="throttle"),
        ]
        self._tasks[1].add_done_callback(self._scan_done)
        self.metrics.scan_supervisor_state.set(SUPERVISOR_STATES["running"])

    async def stop(self) -> None:
        """Cancel the loops, release the lock if ours, close clients."""
        self.metrics.scan_supervisor_state.set(SUPERVISOR_STATES["stopping"])
        for task in self._tasks + list(self._side_tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._side_tasks, return_exceptions=True)
        if self.elector.is_leader:
            try:
                await asyncio.wait_for(self.lock.release(), timeout=1.0)
            except Exception:
                pass
        for closer in (self.broker.close(), self.store.close(), self.redis.aclose()):
            try:
                await asyncio.wait_for(closer, timeout=2.0)
            except Exception:
                pass
        self.metrics.scan_supervisor_state.set(SUPERVISOR_STATES["stopped"])

    def _scan_done(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        state = "exception" if task.exception() else "done"
        self.metrics.scan_supervisor_state.set(SUPERVISOR_STATES[state])

    def background(self, coro: Any) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = asyncio.create_task(coro)
        self._side_tasks.add(task)
        task.add_done_callback(self._side_tasks.discard)

    async def audit(self, event: str, detail: Dict[str, Any]) -> None:
        """Append an audit log row; skipped (and logged) while Postgres is down."""
        try:
            await self.store.audit(event, detail)
        except StoreUnavailable:
            log.info("audit %s not written: Postgres unavailable", event)

    async def _load_from_store(self) -> None:
        try:
            self.positions = await self.store.positions()
            self.trades_today = await self.store.trades_today()
            await self._requeue_unfinished()
        except StoreUnavailable:
            log.warning("Postgres unavailable at startup; will retry in the background")

    async def _requeue_unfinished(self) -> None:
        for row in await self.store.unfinished_orders():
            order = _order_from_row(row)
            if row["status"] == "PENDING":
                self.throttle.put(order)
            else:
                self.open_orders.setdefault(order["client_order_id"], order)

    # ---- loops ------------------------------------------------------------------------------
    async def _scan_loop(self) -> None:
        """Strategy scan: beats every period, paused or not; scans only when leading and not paused."""
        while True:
            self.orchestrator.beat("scan")
            if self.elector.is_leader and not self.orchestrator.is_paused:
                self._scan()
            await asyncio.sleep(self.profile.scan_period)

    def _scan(self) -> None:
        """One strategy cycle. The lab's strategy never trades by itself: orders come from POST /orders."""

    async def _order_stream_loop(self) -> None:
        """Poll the broker's order book, record fills; beat after each successful poll."""
        while True:
            try:
                book = await self.broker.orders()
                self.order_stream_ok = True
                self.orchestrator.beat("order_stream")
                await self._reconcile(book)
            except BrokerError as exc:
                self.order_stream_ok = False
                log.debug("order stream poll failed: %s", exc)
            except StoreUnavailable:
                pass
            now = time.monotonic()
            if now - self._last_sweep >= SWEEP_EVERY:
                self._last_sweep = now
                try:
                    await self._requeue_unfinished()
                except StoreUnavailable:
                    pass
            await asyncio.sleep(self.profile.order_stream_period)

    async def _reconcile(self, book: List[Dict[str, Any]]) -> None:
        for broker_order in book:
            tag = broker_order.get("tag")
            order = self.open_orders.get(tag)
            if order is None or broker_order.get("status") != "COMPLETE":
                continue
            price = float(broker_order.get("average_price") or order.get("price") or 0.0)
            qty, avg = await self.store.record_fill(tag, str(broker_order["order_id"]), order["symbol"],
                                                    order["side"], int(order["quantity"]), price)
            self.open_orders.pop(tag, None)
            self.positions[order["symbol"]] = (qty, avg)
            if qty == 0:
                self.positions.pop(order["symbol"], None)
            self.trades_today += 1
            self.metrics.orders_filled.labels(order_type=order["order_type"]).inc()

    def _on_tick(self, tick: Dict[str, Any]) -> None:
        self.orchestrator.beat("marketdata")

    # ---- orders -----------------------------------------------------------------------------
    async def _place(self, order: Dict[str, Any]) -> None:
        """Send one order from the throttle to the broker (RetryLater on 429 / broker down)."""
        started = time.perf_counter()
        order_type = order["order_type"]
        try:
            broker_id = await self.broker.place_order(order)
        except RateLimited as exc:
            self.metrics.retries.labels(type="rate_limited").inc()
            raise RetryLater(max(exc.retry_after, 1.0 / self.settings.throttle_rate), "broker 429") from None
        except BrokerUnavailable as exc:
            raise RetryLater(0.5, str(exc)) from None
        except BrokerRejected as exc:
            self.metrics.orders_placed.labels(order_type=order_type, status="rejected").inc()
            log.warning("order %s rejected by the broker: %s", order["client_order_id"], exc)
            try:
                await self.store.mark_rejected(order["client_order_id"])
            except StoreUnavailable:
                raise RetryLater(1.0, "Postgres unavailable") from None
            return
        self.metrics.order_latency_ms.observe((time.perf_counter() - started) * 1000)
        self.metrics.orders_placed.labels(order_type=order_type, status="accepted").inc()
        self.open_orders[order["client_order_id"]] = {**order, "broker_order_id": broker_id}
        try:
            await self.store.mark_sent(order["client_order_id"], broker_id)
        except StoreUnavailable:
            # The broker has it (and is idempotent on the tag); the sweep re-syncs the row later.
            pass

    async def submit(self, order: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
        """Persist then queue an order; ``(row, created)``. Raises StoreUnavailable when Postgres is down."""
        row, created = await self.store.insert_order(order, self.mode)
        if created or row["status"] == "PENDING":
            self.throttle.put(_order_from_row(row), dedupe=not self.store.allow_duplicates)
        return row, created

    async def flatten(self, reason: str) -> str:
        """Close every position; ``flattened`` or ``no_positions``."""
        if not self.positions:
            return "no_positions"
        self.positions.clear()
        try:
            await self.store.close_positions()
        except StoreUnavailable:
            log.warning("flatten: positions cleared in memory; Postgres unavailable, not persisted")
        self.background(self.audit("flatten", {"reason": reason}))
        return "flattened"

    def daily_pnl(self) -> float:
        """Unrealised P&L of open positions at the last tick prices."""
        pnl = 0.0
        for symbol, (qty, avg) in self.positions.items():
            last = self.feed.last_prices.get(symbol, avg)
            pnl += qty * (last - avg)
        return round(pnl, 2)


def _order_from_row(row: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "client_order_id": row["client_order_id"],
        "symbol": row["symbol"],
        "side": row["side"],
        "quantity": int(row["quantity"]),
        "price": row["price"],
        "order_type": row["order_type"],
    }
