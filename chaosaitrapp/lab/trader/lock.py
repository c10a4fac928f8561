"""The Redis leader lock, modelled on redis-py's ``redis/asyncio/lock.py``.

- key ``trader:leader``, value this instance's token (a uuid4), taken with ``SET key token NX PX ttl``;
- extended by a compare-and-expire Lua script: the TTL is reset only if the value is still ours;
- released by a compare-and-delete Lua script.

Failure timeline (what a drill observes):

1. Redis stops at t0. The next :meth:`LeaderLock.extend` (at most ``refresh`` later) raises a
   ``redis.exceptions.ConnectionError`` (or times out after ``socket_timeout``); the caller treats
   that as lost leadership.
2. The key persisted across a Redis restart (RDB on shutdown) still holds our token with its
   remaining TTL. **Quirk, kept on purpose**: :meth:`acquire` does not check whether the holder is
   itself, so ``SET NX`` fails until the TTL runs out; recovery then takes up to ``ttl``.
3. AITRAPP has no fencing token: a paused process whose key expired may believe it still leads
   until its next extend (defect ``no_fencing``, the published behaviour).

The fix the lab implements by default (``fencing=True``): every grant takes a *fencing token*
from ``INCR trader:leader:fence`` in the same script as the ``SET NX`` (so tokens grow with every
grant, across instances), sent with every order and checked by the broker (an older token than
the newest it has seen is refused); and a *lease guard*: :attr:`LeaderLock.lease_deadline` is the
monotonic time the lease surely ends (the moment the winning ``SET``/extend was *sent*, plus the
TTL), so the caller can refuse to start an order that could outlive it.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chaosaitrapp.aitrapp import LOCK_KEY  # noqa: E402

EXTEND_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""

ACQUIRE_FENCED_SCRIPT = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return redis.call('incr', KEYS[2])
end
return 0
"""

RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def make_redis(url: str, socket_timeout: Optional[float]) -> Redis:
    """An asyncio Redis client with short timeouts and no automatic retries (errors surface at once);
    ``socket_timeout`` None: no timeout at all (a call on a silent socket waits forever)."""
    return Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
    )


class LeaderLock:
    """One holder's handle on the lock ``name``; every method raises Redis errors to the caller."""

    def __init__(self, redis: Redis, token: str, ttl: float, name: str = LOCK_KEY, *, fencing: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.redis = redis
        self.token = token
        self.ttl = ttl
        self.name = name
        self.fencing = fencing
        self.fence_key = f"{name}:fence"
        self.clock = clock
        self.fence: Optional[int] = None  # the token of our current grant (fencing only)
        self.lease_deadline = float("-inf")  # monotonic time our lease surely ends
        self._extend = redis.register_script(EXTEND_SCRIPT)
        self._release = redis.register_script(RELEASE_SCRIPT)
        self._acquire_fenced = redis.register_script(ACQUIRE_FENCED_SCRIPT)

    @property
    def ttl_ms(self) -> int:
        """The TTL in milliseconds."""
        return max(1, int(self.ttl * 1000))

    def lease_remaining(self) -> float:
        """Seconds our lease surely lasts, on the monotonic clock (negative once it may have expired)."""
        return self.lease_deadline - self.clock()

    async def acquire(self) -> bool:
        """``SET name token NX PX ttl``: True when taken. Does not recognise our own stale key (quirk).
        With fencing, the grant's token comes from ``INCR`` in the same script (:attr:`fence`)."""
        sent = self.clock()
        if self.fencing:
            fence = int(await self._acquire_fenced(keys=[self.name, self.fence_key], args=[self.token, self.ttl_ms]))
            taken = fence > 0
            if taken:
                self.fence = fence
        else:
            taken = bool(await self.redis.set(self.name, self.token, nx=True, px=self.ttl_ms))
        if taken:
            self.lease_deadline = sent + self.ttl
        return taken

    async def extend(self) -> bool:
        """Reset the TTL if the key still holds our token; False when it does not."""
        sent = self.clock()
        extended = bool(await self._extend(keys=[self.name], args=[self.token, self.ttl_ms]))
        self.lease_deadline = sent + self.ttl if extended else float("-inf")
        return extended

    async def release(self) -> bool:
        """Delete the key if it still holds our token."""
        return bool(await self._release(keys=[self.name], args=[self.token]))

    async def holder(self) -> Optional[str]:
        """The token currently in the key, or None."""
        value = await self.redis.get(self.name)
        return value.decode() if isinstance(value, bytes) else value
