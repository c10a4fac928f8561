"""The orchestrator's pause flag and the three heartbeats.

Pause has reasons: ``manual`` (``POST /pause``) and ``leader_lock_lost`` (the lock loop). The
orchestrator is paused while any reason holds; regaining the lock clears only its own reason, so
a manual pause survives a Redis blip. Heartbeats are monotonic timestamps; :meth:`Orchestrator.age`
gives the age the metrics and ``/ready`` report. With the ``stale_heartbeats`` defect the
heartbeats are frozen at the first fault and reported ``STALE_AGE`` seconds older than they are,
so they read stale at once (above any ``HEARTBEAT_MAX``) and their ages grow for ever.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, Optional, Set

HEARTBEATS = ("marketdata", "order_stream", "scan")
MANUAL = "manual"
LOCK_LOST = "leader_lock_lost"
STALE_AGE = 60.0  # what a frozen heartbeat adds to its age (the stale_heartbeats defect)


class Orchestrator:
    """Pause reasons and heartbeats; ``clock`` is injectable (monotonic seconds; the wall clock, unclamped,
    with the ``heartbeat_on_wall_clock`` defect)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, clamp: bool = True) -> None:
        self.clock = clock
        self.clamp = clamp  # False (defect heartbeat_on_wall_clock): a clock that steps back reads negative ages
        self.started = clock()
        self.pause_reasons: Set[str] = set()
        self._beats: Dict[str, float] = {}
        self.frozen_at: Optional[float] = None

    @property
    def is_paused(self) -> bool:
        """True while any pause reason holds."""
        return bool(self.pause_reasons)

    def pause(self, reason: str = MANUAL) -> None:
        """Add a pause reason."""
        self.pause_reasons.add(reason)

    def resume(self, reason: str = MANUAL) -> None:
        """Remove one pause reason (the others keep the orchestrator paused)."""
        self.pause_reasons.discard(reason)

    def beat(self, name: str) -> None:
        """Record that loop ``name`` just did its work (ignored once heartbeats are frozen)."""
        if name not in HEARTBEATS:
            raise ValueError(f"unknown heartbeat {name!r}")
        if self.frozen_at is None:
            self._beats[name] = self.clock()

    def freeze_heartbeats(self) -> None:
        """Stop recording heartbeats (the ``stale_heartbeats`` defect)."""
        if self.frozen_at is None:
            self.frozen_at = self.clock()

    def age(self, name: str) -> float:
        """Seconds since loop ``name`` last beat (since start when it never did); plus
        ``STALE_AGE`` once the heartbeats are frozen."""
        age = self.clock() - self._beats.get(name, self.started)
        age = max(0.0, age) if self.clamp else age
        return age + STALE_AGE if self.frozen_at is not None else age

    def ages(self) -> Dict[str, float]:
        """All three ages, keyed ``marketdata``, ``order_stream``, ``scan``."""
        return {name: self.age(name) for name in HEARTBEATS}
