"""The order throttle: a leaky bucket in front of the broker's rate limit.

Orders wait in a FIFO queue (its length is ``trader_throttle_queue_depth{type="order_placement"}``)
and leave it at ``rate`` per second, with up to ``burst`` leaving at once after a quiet period
(:class:`TokenBucket`). ``send`` places one order; raising :class:`RetryLater` puts the order
back at the head of the queue and waits (broker 429, broker unreachable). Nothing leaves the
queue unless ``send`` returned. ``clock`` and ``sleep`` are injectable for tests.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import Any, Awaitable, Callable, Deque, Dict, Optional, Set

log = logging.getLogger("chaosaitrapp.lab.trader.throttle")


class RetryLater(Exception):
    """``send`` could not place the order now; try again after ``delay`` seconds."""

    def __init__(self, delay: float, reason: str = "") -> None:
        super().__init__(reason or f"retry in {delay:.2f}s")
        self.delay = delay
        self.reason = reason


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = float(burst)
        self.updated = clock()

    def take(self) -> float:
        """Take a token and return 0, or return the seconds until one is available (taking none)."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1 - 1e-9:  # tolerate float drift in the refill
            self.tokens = max(0.0, self.tokens - 1)
            return 0.0
        return (1 - self.tokens) / self.rate


class ThrottleQueue:
    """FIFO of orders drained by :meth:`run` through ``send``, at most ``rate``/s."""

    def __init__(
        self,
        send: Callable[[Dict[str, Any]], Awaitable[None]],
        *,
        rate: float,
        burst: int,
        on_depth: Callable[[int], None] = lambda depth: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.send = send
        self.bucket = TokenBucket(rate, burst, clock)
        self.on_depth = on_depth
        self.sleep = sleep
        self._items: Deque[Dict[str, Any]] = deque()
        self._known: Set[str] = set()
        self._inflight: Optional[str] = None
        self._wakeup = asyncio.Event()

    @property
    def depth(self) -> int:
        """Orders waiting (the one being sent included)."""
        return len(self._items) + (1 if self._inflight else 0)

    def queued_ids(self) -> Set[str]:
        """The ``client_order_id`` of every order waiting (the one being sent included)."""
        return set(self._known)

    def knows(self, client_order_id: str) -> bool:
        """True when the order is queued or being sent."""
        return client_order_id in self._known

    def put(self, order: Dict[str, Any], *, dedupe: bool = True) -> bool:
        """Queue ``order`` (a dict with ``client_order_id``); False if already queued and ``dedupe``."""
        key = order["client_order_id"]
        if dedupe and key in self._known:
            return False
        self._known.add(key)
        self._items.append(order)
        self.on_depth(self.depth)
        self._wakeup.set()
        return True

    def clear(self) -> Set[str]:
        """Empty the queue (the order being sent stays with its sender); the ``client_order_id`` of every order
        taken out (only the ``drops_queue_on_paused_refresh`` defect does this)."""
        taken = {o["client_order_id"] for o in self._items}
        self._items.clear()
        self._known -= taken
        self.on_depth(self.depth)
        return taken

    async def drain_once(self) -> Optional[float]:
        """Try to send the head order; return a delay to wait first, or None when the queue is empty."""
        if not self._items:
            return None
        wait = self.bucket.take()
        if wait > 0:
            return wait
        order = self._items.popleft()
        self._inflight = order["client_order_id"]
        try:
            await self.send(order)
        except RetryLater as exc:
            self._items.appendleft(order)
            return exc.delay
        except Exception:  # an unexpected bug must not lose the order
            log.exception("order %s: unexpected error while sending; will retry", order["client_order_id"])
            self._items.appendleft(order)
            return 1.0
        else:
            if not any(o["client_order_id"] == order["client_order_id"] for o in self._items):
                self._known.discard(order["client_order_id"])
        finally:
            self._inflight = None
            self.on_depth(self.depth)
        return 0.0

    async def run(self) -> None:
        """Drain for ever (until cancelled)."""
        while True:
            delay = await self.drain_once()
            if delay is None:
                self._wakeup.clear()
                await self._wakeup.wait()
            elif delay > 0:
                await self.sleep(delay)
