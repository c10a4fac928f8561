"""Who leads: the loop that takes, refreshes and re-takes the leader lock.

:class:`LeaderElector` runs :meth:`LeaderElector.step` forever, sleeping the delay each step
returns. A step while leading extends the lock; *any* exception or a False answer means
leadership is lost: ``on_lost`` runs (gauge 0, orchestrator paused, kill-switch counted by the
caller) and re-acquisition starts with backoff ``backoff[0], backoff[1], ...`` (the last value
repeats) plus ``random() * jitter``. On success ``on_acquired`` runs and the backoff restarts.

``sleep`` and ``random`` are injectable so tests assert exact delay sequences without sleeping.
"""
from __future__ import annotations

import asyncio
import logging
import random as _random
import time
from typing import Awaitable, Callable, List, Optional, Sequence

from chaosaitrapp.lab.trader.lock import LeaderLock

log = logging.getLogger("chaosaitrapp.lab.trader.leadership")


class LeaderElector:
    """Drives one :class:`LeaderLock`.

    ``state`` is ``"never"`` (never held: the API reports leader 999), ``"leader"`` or
    ``"follower"``. With ``never_reacquire`` (a lab defect) it stops trying after the first loss.
    """

    def __init__(
        self,
        lock: LeaderLock,
        *,
        refresh: float,
        backoff: Sequence[float],
        jitter: float,
        on_acquired: Callable[[], None],
        on_lost: Callable[[str], None],
        never_reacquire: bool = False,
        wall_schedule: bool = False,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
    ) -> None:
        if not backoff:
            raise ValueError("backoff needs at least one delay")
        self.lock = lock
        self.refresh = refresh
        self.backoff: List[float] = list(backoff)
        self.jitter = jitter
        self.on_acquired = on_acquired
        self.on_lost = on_lost
        self.never_reacquire = never_reacquire
        self.wall_schedule = wall_schedule
        self.sleep = sleep
        self.random = random
        self.state = "never"
        self.attempt = 0
        self.losses = 0
        self.last_error: Optional[str] = None

    @property
    def is_leader(self) -> bool:
        """True while we hold the lock (as of the last step)."""
        return self.state == "leader"

    def next_backoff(self) -> float:
        """The next re-acquire delay: ``backoff[min(attempt, last)] + random() * jitter``."""
        base = self.backoff[min(self.attempt, len(self.backoff) - 1)]
        self.attempt += 1
        return base + self.random() * self.jitter

    def step_down(self, reason: str) -> None:
        """Give leadership up now (the resource refused our fencing token: someone holds a newer grant);
        the next step tries to re-acquire."""
        if self.state != "leader":
            return
        self.state = "follower"
        self.attempt = 0
        self.losses += 1
        self.last_error = reason
        self.lock.lease_deadline = float("-inf")
        log.warning("leader lock given up (%s)", reason)
        self.on_lost(reason)

    async def step(self) -> float:
        """One round of the lock loop; returns the seconds to wait before the next round."""
        if self.state == "leader":
            try:
                still_ours = await self.lock.extend()
                reason = "lock no longer ours" if not still_ours else ""
            except Exception as exc:  # any Redis error = lost leadership
                still_ours, reason = False, f"redis error during refresh: {type(exc).__name__}: {exc}"
            if still_ours:
                return self.refresh
            self.state = "follower"
            self.attempt = 0
            self.losses += 1
            self.last_error = reason
            log.warning("leader lock lost (%s)", reason)
            self.on_lost(reason)
            return self.next_backoff()
        if self.never_reacquire and self.losses:
            return self.refresh
        try:
            taken = await self.lock.acquire()
        except Exception as exc:
            taken = False
            self.last_error = f"redis error during acquire: {type(exc).__name__}: {exc}"
        if taken:
            self.state = "leader"
            self.attempt = 0
            self.last_error = None
            log.info("leader lock acquired")
            self.on_acquired()
            return self.refresh
        return self.next_backoff()  # "never" stays "never" (leader 999) until the first success

    async def run(self) -> None:
        """Step forever (until cancelled). With ``wall_schedule`` (defect ``lease_on_wall_clock``) a leader's next
        refresh is due at a wall-clock time: a wall clock stepped back postpones it by the step."""
        while True:
            delay = await self.step()
            if self.wall_schedule and self.state == "leader":
                due = time.time() + delay
                while time.time() < due:
                    await self.sleep(min(0.05, max(0.0, due - time.time())))
            else:
                await self.sleep(delay)
