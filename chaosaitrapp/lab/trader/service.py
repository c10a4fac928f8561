"""The trader's moving parts wired together: lock loop, orchestrator loops, throttle, store, the broker
session and market data (both through the official Kite client), the order flow.

:class:`Trader` owns every background task (started by :meth:`Trader.start`, stopped by
:meth:`Trader.stop`) and the in-memory view the API reads (positions, trades, leader state). Routes
(``routes.py``) stay thin and call it.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from chaosaitrapp.lab.trader.intake import drain_spool
from chaosaitrapp.lab.trader.kite import BrokerError, KiteSession
from chaosaitrapp.lab.trader.leadership import LeaderElector
from chaosaitrapp.lab.trader.lock import LeaderLock, make_redis
from chaosaitrapp.lab.trader.marketdata import MarketData
from chaosaitrapp.lab.trader.metrics import SUPERVISOR_STATES, TraderMetrics
from chaosaitrapp.lab.trader.orchestrator import LOCK_LOST, Orchestrator
from chaosaitrapp.lab.trader.orderflow import OrderFlow, order_from_row
from chaosaitrapp.lab.trader.settings import TraderSettings
from chaosaitrapp.lab.trader.store import OrderStore, StoreUnavailable
from chaosaitrapp.lab.trader.throttle import ThrottleQueue

log = logging.getLogger("chaosaitrapp.lab.trader")

SWEEP_EVERY = 2.0  # seconds between sweeps for accepted orders that are in no queue
#: Instruments the trader streams: NIFTY 50 and NIFTY BANK (indices), the NIFTY and BANKNIFTY futures.
STREAMED = (256265, 260105, 12335874, 12336130)
SYMBOLS = {12335874: "NIFTY", 12336130: "BANKNIFTY"}


#: The share of a scan period one scan burns with the ``blocking_scan`` defect (CPU time, not wall time:
#: the same work takes longer when the process gets less CPU). 0.2: unstressed, it keeps up with a fifth of a
#: CPU (a loaded CI machine still gives its cgroup that); under CPU stress in its cgroup (two stressors
#: beside it in a 0.5-CPU quota leave it a sixth) a scan outlasts its period and it never catches up.
BLOCKING_SCAN_SHARE = 0.2
#: With ``blocking_scan``, a loop catching up holds the event loop this long at a time (wall seconds), then
#: lets it run for ``BLOCKING_SCAN_GAP_S`` (without beating): the API answers in the gaps, late, so the sampler
#: still reads the stalled scan heartbeat and the drill's verdict rests on readings, not on silence.
BLOCKING_SCAN_SLICE_S = 1.0
BLOCKING_SCAN_GAP_S = 0.05
#: How often the market-data watchdog looks at the ticker (seconds).
WATCHDOG_PERIOD_S = 0.5


#: An order unchanged in the book for this many order-stream periods (at least 1 s) is asked about.
STATUS_POLL_PERIODS = 4


def burn_cpu(seconds: float) -> None:
    """Busy-loop until this thread has used ``seconds`` of CPU time."""
    until = time.thread_time() + seconds
    x = 0
    while time.thread_time() < until:
        for i in range(2000):
            x ^= i * i


class Trader:
    """The running trader (one per process)."""

    def __init__(self, settings: TraderSettings, metrics: TraderMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.profile = settings.profile
        self.defects = settings.defects
        self.mode = settings.mode
        self.api_paused = False
        wall_heartbeats = "heartbeat_on_wall_clock" in self.defects
        self.orchestrator = Orchestrator(time.time, clamp=False) if wall_heartbeats else Orchestrator()
        metrics.bind_heartbeats(self.orchestrator.age)
        # defect no_redis_timeout: the client waits forever on a silent socket (a partition, not a refusal)
        redis_timeout = None if "no_redis_timeout" in self.defects else self.profile.redis_socket_timeout
        self.redis = make_redis(settings.redis_url, redis_timeout)
        # the split-brain fix (fencing token + lease guard); defect no_fencing is AITRAPP as published
        self.fencing = "no_fencing" not in self.defects
        # defect lease_on_wall_clock: the lease (guard and refresh schedule) on the wall clock
        wall_lease = "lease_on_wall_clock" in self.defects
        self.lock = LeaderLock(self.redis, settings.instance_id, self.profile.lock_ttl, settings.lock_key,
                               fencing=self.fencing, clock=time.time if wall_lease else time.monotonic)
        self.elector = LeaderElector(
            self.lock, refresh=self.profile.lock_refresh, backoff=self.profile.backoff, jitter=self.profile.jitter,
            on_acquired=self._on_acquired, on_lost=self._on_lost,
            never_reacquire="never_reacquire" in self.defects, wall_schedule=wall_lease,
        )
        self.store = OrderStore(settings.database_url, connect_timeout=self.profile.pg_connect_timeout,
                                allow_duplicates="duplicate_orders" in self.defects,
                                instance_id=settings.instance_id,
                                unbounded_writes="db_write_without_timeout" in self.defects)
        self.market = MarketData(settings.kite_api_key, settings.kite_ticker_root, STREAMED, self._on_ticks,
                                 reconnect_max_delay=self.profile.ticker_max_delay,
                                 connect_timeout=self.profile.ticker_connect_timeout, defects=self.defects)
        self.kite = KiteSession(settings.kite_root, settings.kite_api_key, settings.kite_api_secret,
                                self.profile.broker_timeout, on_refresh=self._on_refresh,
                                count_refresh=lambda: metrics.retries.labels(type="token_refresh").inc(),
                                defects=self.defects, min_refresh_interval=self.profile.min_refresh_interval,
                                instance_id=settings.instance_id)
        self.orders = OrderFlow(self.kite, self.store, metrics, settings.throttle_rate, feed_fresh=self.feed_fresh,
                                defects=self.defects, trading=self.trading, lease_ok=self.lease_ok,
                                on_fenced=self.elector.step_down,
                                status_poll_s=max(1.0, STATUS_POLL_PERIODS * self.profile.order_stream_period))
        self.orders.on_fill = self._on_fill
        self.orders.mode = self.mode
        self.throttle = ThrottleQueue(self.orders.place, rate=settings.throttle_rate, burst=settings.throttle_burst,
                                      on_depth=metrics.set_queue_depth)
        self.positions: Dict[str, Tuple[int, float]] = {}
        self.trades_today = 0
        self.broker_ready = asyncio.Event()
        self._tasks: List[asyncio.Task] = []
        self._side_tasks: Set[asyncio.Task] = set()
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    # ---- leadership -------------------------------------------------------------------------
    @property
    def leader_value(self) -> int:
        """1 leader, 0 not, 999 when the lock was never taken (the contract's quirk)."""
        if self.elector.state == "never":
            return 999
        return 1 if self.elector.is_leader else 0

    def trading(self) -> bool:
        """Whether orders may leave: leading and not paused (with ``never_pause``, also after a lost lock)."""
        if self.orchestrator.is_paused:
            return False
        return self.elector.is_leader or ("never_pause" in self.defects and self.elector.state == "follower")

    def lease_ok(self) -> bool:
        """The lease guard: the lock's lease surely outlasts an order's reply (the broker timeout). Always
        True without fencing (``no_fencing``: AITRAPP as published has no guard)."""
        return not self.fencing or self.lock.lease_remaining() > self.profile.broker_timeout

    def _on_acquired(self) -> None:
        if self.fencing:
            self.kite.set_fence(self.lock.fence)
        # orders still queued here from before may have been placed by another leader meanwhile: each
        # is looked up by its tag before it is sent (never sent twice)
        self.orders.unsure.update(self.throttle.queued_ids())
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

    # ---- market data ------------------------------------------------------------------------
    def _on_ticks(self, ticks: List[Dict[str, Any]]) -> None:
        self.orchestrator.beat("marketdata")

    def feed_fresh(self) -> bool:
        """True while the ticker is connected, a tick came on its socket since it connected, and the
        market-data heartbeat is younger than ``HEARTBEAT_MAX`` (``heartbeat_from_simulator``: the heartbeat
        alone, which the simulator keeps fresh)."""
        fresh = self.orchestrator.age("marketdata") < self.settings.heartbeat_max
        if "heartbeat_from_simulator" in self.defects:
            return fresh
        return fresh and self.market.connected and self.market.ticking

    async def _tick_simulator(self) -> None:
        """Defect ``heartbeat_from_simulator`` (AITRAPP in PAPER): while the ticker is down, simulated ticks
        beat the market-data heartbeat every 0.25 s."""
        while True:
            if not self.market.connected:
                self.orchestrator.beat("marketdata")
            await asyncio.sleep(0.25)  # the simulator's tick period, not a wait for a state

    async def _market_watchdog(self) -> None:
        """The trader's own market-data watchdog, on the monotonic clock: a ticker down for
        ``profile.md_watchdog_s`` is started again on the current session (KiteTicker's own retries wait on
        Twisted's wall-clock timers). Not with ``ws_never_reconnects`` (nothing reconnects) nor
        ``reconnects_on_wall_clock`` (the library's retries alone)."""
        down_since: Optional[float] = None
        while True:
            await asyncio.sleep(WATCHDOG_PERIOD_S)  # the watchdog's cadence, not a wait for a state
            token = self.kite.access_token
            if self.market.connected or token is None:
                down_since = None
                continue
            now = time.monotonic()
            down_since = now if down_since is None else down_since
            if now - down_since >= self.profile.md_watchdog_s:
                log.warning("market data down for %.1f s: starting the ticker again", now - down_since)
                self.market.start(token, reconnect=True)
                down_since = now

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Start every background loop."""
        self._loop = asyncio.get_running_loop()
        await self._load_from_store()
        self._tasks = [
            asyncio.create_task(self.elector.run(), name="leader-lock"),
            asyncio.create_task(self._scan_loop(), name="scan"),
            asyncio.create_task(self._broker_loop(), name="order-stream"),
            asyncio.create_task(self.throttle.run(), name="throttle"),
        ]
        if "heartbeat_from_simulator" in self.defects:
            self._tasks.append(asyncio.create_task(self._tick_simulator(), name="tick-simulator"))
        if not {"ws_never_reconnects", "reconnects_on_wall_clock"} & self.defects:
            self._tasks.append(asyncio.create_task(self._market_watchdog(), name="market-watchdog"))
        if self.settings.order_spool:
            self._tasks.append(asyncio.create_task(drain_spool(Path(self.settings.order_spool), self.submit),
                                                   name="order-spool"))
        self._tasks[1].add_done_callback(self._scan_done)
        self.metrics.scan_supervisor_state.set(SUPERVISOR_STATES["running"])

    async def stop(self) -> None:
        """Cancel the loops, stop the ticker, release the lock if ours, close clients."""
        self.metrics.scan_supervisor_state.set(SUPERVISOR_STATES["stopping"])
        for task in self._tasks + list(self._side_tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._side_tasks, return_exceptions=True)
        self.market.shutdown()
        if self.elector.is_leader:
            try:
                await asyncio.wait_for(self.lock.release(), timeout=1.0)
            except Exception:
                pass
        for closer in (self.store.close(), self.redis.aclose()):
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
            await self.orders.requeue_unfinished(self.throttle, at_start=True)
        except StoreUnavailable:
            log.warning("Postgres unavailable at startup; will retry in the background")

    # ---- loops ------------------------------------------------------------------------------
    async def _scan_loop(self) -> None:
        """Strategy scan: beats every period, paused or not; scans only when leading and not paused; each pass
        sleeps until the next one is due (one period after the last was due). With the ``blocking_scan``
        defect a scan is CPU work on the event loop, and a loop that fell behind runs the scans it missed at
        once, back to back, yielding only a short gap each ``BLOCKING_SCAN_SLICE_S``: while a scan takes less
        wall time than a period (CPU to spare, even on a loaded machine) it never falls behind; starved of CPU
        (a scan outlasts its period) it never catches up: the scan heartbeat stops and the rest of the process
        (API, the other loops) runs only in the gaps until the CPU comes back."""
        blocking = "blocking_scan" in self.defects
        due = time.monotonic()
        while True:
            self.orchestrator.beat("scan")
            due += self.profile.scan_period
            if self.elector.is_leader and not self.orchestrator.is_paused:
                self._scan()
                held_since = time.monotonic()
                while blocking and time.monotonic() > due:  # catch up on the missed scans, never beating
                    self._scan()
                    due += self.profile.scan_period
                    if time.monotonic() - held_since >= BLOCKING_SCAN_SLICE_S:
                        await asyncio.sleep(BLOCKING_SCAN_GAP_S)  # the API's gap: late answers, no beat
                        held_since = time.monotonic()
            due = max(due, time.monotonic())
            await asyncio.sleep(due - time.monotonic())  # the scan cadence: until the next scan is due

    def _scan(self) -> None:
        """One strategy cycle. The lab's strategy never trades by itself: orders come from POST /orders. With
        ``blocking_scan`` it burns ``BLOCKING_SCAN_SHARE`` of a scan period of CPU time, on the event loop."""
        if "blocking_scan" in self.defects:
            burn_cpu(BLOCKING_SCAN_SHARE * self.profile.scan_period)

    async def _connect_broker(self) -> None:
        """Open the broker session and the ticker, retrying until the broker answers."""
        delay = 0.2
        while True:
            try:
                token = await asyncio.to_thread(self.kite.login)
                break
            except BrokerError as exc:
                log.warning("broker session not opened yet: %s", exc)
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)
        self.market.start(token)
        self.broker_ready.set()

    async def _broker_loop(self) -> None:
        """The order stream: poll the book every period, record fills, beat after each good poll; sweep the
        store for orders that are in no queue."""
        await self._connect_broker()
        last_sweep = 0.0
        while True:
            try:
                await self.orders.poll()
                self.orchestrator.beat("order_stream")
            except BrokerError as exc:
                log.debug("order stream poll failed: %s", exc)
            except StoreUnavailable:
                pass
            if time.monotonic() - last_sweep >= SWEEP_EVERY:
                last_sweep = time.monotonic()
                try:
                    await self.orders.requeue_unfinished(self.throttle)
                except StoreUnavailable:
                    pass
            await asyncio.sleep(self.profile.order_stream_period)

    def _on_refresh(self, token: str) -> None:
        """A new broker session (called from the session's worker thread): the ticker restarts on it. With the
        ``drops_queue_on_paused_refresh`` defect, a refresh while trading is paused also rebuilds the order
        queue empty, and the orders taken out are forgotten (PENDING for ever, never placed)."""
        self.market.start(token)
        if "drops_queue_on_paused_refresh" in self.defects and self._loop is not None:
            self._loop.call_soon_threadsafe(self._drop_queue_if_paused)

    def _drop_queue_if_paused(self) -> None:
        if self.orchestrator.is_paused:
            dropped = self.throttle.clear()
            self.orders.forgotten.update(dropped)
            if dropped:
                log.warning("defect drops_queue_on_paused_refresh: %d queued order(s) dropped", len(dropped))

    def _on_fill(self, order: Dict[str, Any], qty: int, avg: float) -> None:
        self.positions[order["symbol"]] = (qty, avg)
        if qty == 0:
            self.positions.pop(order["symbol"], None)
        self.trades_today += 1

    # ---- orders -----------------------------------------------------------------------------
    async def submit(self, order: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
        """Persist then queue an order; ``(row, created)``. Raises StoreUnavailable when Postgres is down.
        With the ``write_behind_orders`` defect the order is acknowledged first and written behind: a write
        that fails drops it; with ``queue_in_memory`` it is acknowledged and queued, and written only once the
        broker accepted it: a crash meanwhile loses it."""
        if "queue_in_memory" in self.defects:  # acknowledged, queued in memory only: written once placed
            self.throttle.put(dict(order))
            return {**order, "order_id": uuid.uuid4().hex[:16].upper(), "created_at": None, "status": "PENDING",
                    "filled_quantity": 0, "price": order.get("price")}, True
        if "write_behind_orders" in self.defects:
            self.background(self._write_behind(order))
            return {**order, "order_id": uuid.uuid4().hex[:16].upper(), "created_at": None, "status": "PENDING",
                    "filled_quantity": 0, "price": order.get("price")}, True
        return await self._persist_and_queue(order)

    async def _write_behind(self, order: Dict[str, Any]) -> None:
        """Defect ``write_behind_orders``: write an acknowledged order's row, and drop the order when that fails."""
        try:
            await self._persist_and_queue(order)
        except StoreUnavailable as exc:
            log.warning("defect write_behind_orders: acknowledged order %s dropped: %s", order["client_order_id"], exc)

    async def _persist_and_queue(self, order: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
        row, created = await self.store.insert_order(order, self.mode)
        if created or row["status"] == "PENDING":
            if not created:
                # a repeated submission of an order read PENDING: it may have been sent meanwhile (its send
                # finishing between that read and this put), so it is looked up by its tag before it is sent
                self.orders.unsure.add(row["client_order_id"])
            self.throttle.put(order_from_row(row), dedupe=not self.store.allow_duplicates)
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
        by_symbol = {SYMBOLS[t]: p for t, p in self.market.last_prices.items() if t in SYMBOLS}
        pnl = 0.0
        for symbol, (qty, avg) in self.positions.items():
            pnl += qty * (by_symbol.get(symbol, avg) - avg)
        return round(pnl, 2)
