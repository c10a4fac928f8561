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
3. There is no fencing token: a paused process whose key expired may believe it still leads
   until its next extend.
"""
from __future__ import annotations

from typing import Optional

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

    def __init__(self, redis: Redis, token: str, ttl: float, name: str = LOCK_KEY) -> None:
        self.redis = redis
        self.token = token
        self.ttl = ttl
        self.name = name
        self._extend = redis.register_script(EXTEND_SCRIPT)
        self._release = redis.register_script(RELEASE_SCRIPT)

    @property
    def ttl_ms(self) -> int:
        """The TTL in milliseconds."""
        return max(1, int(self.ttl * 1000))

    async def acquire(self) -> bool:
        """``SET name token NX PX ttl``: True when taken. Does not recognise our own stale key (quirk)."""
        return bool(await self.redis.set(self.name, self.token, nx=True, px=self.ttl_ms))

    async def extend(self) -> bool:
        """Reset the TTL if the key still holds our token; False when it does not."""
        return bool(await self._extend(keys=[self.name], args=[self.token, self.ttl_ms]))

    async def release(self) -> bool:
        """Delete the key if it still holds our token."""
        return bool(await self._release(keys=[self.name], args=[self.token]))

    async def holder(self) -> Optional[str]:
        """The token currently in the key, or None."""
        value = await self.redis.get(self.name)
        return value.decode() if isinstance(value, bytes) else value
