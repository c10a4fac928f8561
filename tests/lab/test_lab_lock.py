"""The leader lock against a real Redis, and the elector's loss/re-acquire logic with injected sleep."""
from __future__ import annotations

import asyncio
import uuid
from typing import List

import pytest
import redis

from chaosaitrapp.lab.trader.leadership import LeaderElector
from chaosaitrapp.lab.trader.lock import LOCK_KEY, LeaderLock, make_redis


def run(coro):
    return asyncio.run(coro)


def sync_client(server) -> redis.Redis:
    host, port = server
    return redis.Redis(host=host, port=port)


class Recorder:
    """Callbacks and a fake sleep that records delays and stops the loop after ``limit`` sleeps."""

    def __init__(self, limit: int = 10**9) -> None:
        self.events: List[str] = []
        self.sleeps: List[float] = []
        self.limit = limit

    def acquired(self) -> None:
        self.events.append("acquired")

    def lost(self, reason: str) -> None:
        self.events.append("lost")

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(round(delay, 6))
        if len(self.sleeps) >= self.limit:
            raise asyncio.CancelledError


def test_acquire_extend_release_against_real_redis(redis_server):
    async def scenario():
        client = make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.5)
        a = LeaderLock(client, "A", ttl=5)
        b = LeaderLock(client, "B", ttl=5)
        assert await a.acquire() is True
        assert await b.acquire() is False
        assert await a.holder() == "A"
        assert await a.extend() is True
        assert await b.extend() is False  # compare-and-expire: not ours
        assert await b.release() is False
        assert await a.holder() == "A"
        assert await a.release() is True
        assert await b.acquire() is True
        await client.aclose()

    run(scenario())
    ttl = sync_client(redis_server).pttl(LOCK_KEY)
    assert 0 < ttl <= 5000


def test_never_two_holders(redis_server):
    async def scenario():
        clients = [make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.5) for _ in range(8)]
        locks = [LeaderLock(c, str(uuid.uuid4()), ttl=5) for c in clients]
        for _ in range(20):
            results = await asyncio.gather(*(lock.acquire() for lock in locks))
            assert sum(results) == 1
            winner = locks[results.index(True)]
            assert await winner.holder() == winner.token
            assert await winner.release()
        for c in clients:
            await c.aclose()

    run(scenario())


def test_own_stale_key_blocks_acquire_until_ttl(redis_server):
    """The quirk: acquire does not recognise its own token left in Redis."""
    sync_client(redis_server).set(LOCK_KEY, "ME", px=400)

    async def scenario():
        client = make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.5)
        lock = LeaderLock(client, "ME", ttl=5)
        assert await lock.acquire() is False
        deadline = asyncio.get_running_loop().time() + 5
        while not await lock.acquire():
            assert asyncio.get_running_loop().time() < deadline, "the stale key never expired"
            await asyncio.sleep(0.05)
        await client.aclose()

    run(scenario())


def test_elector_loses_when_key_taken_and_gets_it_back(redis_server):
    raw = sync_client(redis_server)

    async def scenario():
        client = make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.5)
        rec = Recorder()
        elector = LeaderElector(LeaderLock(client, "A", ttl=5), refresh=0.5, backoff=[0.2, 0.4], jitter=0.0,
                                on_acquired=rec.acquired, on_lost=rec.lost, sleep=rec.sleep, random=lambda: 0.0)
        assert elector.state == "never"
        assert await elector.step() == 0.5 and elector.is_leader
        raw.set(LOCK_KEY, "B", px=5000)  # someone else owns it now
        assert await elector.step() == 0.2 and elector.state == "follower"
        assert await elector.step() == 0.4  # still held by B
        raw.delete(LOCK_KEY)
        assert await elector.step() == 0.5 and elector.is_leader
        assert rec.events == ["acquired", "lost", "acquired"]
        await client.aclose()

    run(scenario())


def test_elector_treats_redis_error_as_loss(redis_server):
    async def scenario():
        client = make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.3)
        rec = Recorder()
        elector = LeaderElector(LeaderLock(client, "A", ttl=5), refresh=0.5, backoff=[0.2], jitter=0.0,
                                on_acquired=rec.acquired, on_lost=rec.lost, sleep=rec.sleep, random=lambda: 0.0)
        await elector.step()
        assert elector.is_leader
        await client.connection_pool.disconnect()
        # point the same lock at a port where nothing listens
        dead = make_redis("redis://127.0.0.1:1/0", 0.3)
        elector.lock.redis = dead
        elector.lock._extend = dead.register_script(elector.lock._extend.script)
        assert await elector.step() == 0.2
        assert elector.state == "follower" and "redis error" in (elector.last_error or "")
        assert await elector.step() == 0.2  # acquire fails too, backoff goes on
        assert rec.events == ["acquired", "lost"]
        await client.aclose()
        await dead.aclose()

    run(scenario())


def test_backoff_sequence_with_jitter_is_exact(redis_server):
    sync_client(redis_server).set(LOCK_KEY, "OTHER", px=60000)
    jitters = iter([0.0, 0.5, 1.0, 0.25, 0.0, 1.0, 0.5])

    async def scenario():
        client = make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.5)
        rec = Recorder(limit=7)
        elector = LeaderElector(LeaderLock(client, "A", ttl=30), refresh=10, backoff=[1, 2, 4, 8, 15, 30],
                                jitter=0.5, on_acquired=rec.acquired, on_lost=rec.lost, sleep=rec.sleep,
                                random=lambda: next(jitters))
        with pytest.raises(asyncio.CancelledError):
            await elector.run()
        await client.aclose()
        return rec

    rec = run(scenario())
    assert rec.sleeps == [1.0, 2.25, 4.5, 8.125, 15.0, 30.5, 30.25]
    assert rec.events == []


def test_never_reacquire_stays_follower(redis_server):
    raw = sync_client(redis_server)

    async def scenario():
        client = make_redis(f"redis://{redis_server[0]}:{redis_server[1]}/0", 0.5)
        rec = Recorder()
        elector = LeaderElector(LeaderLock(client, "A", ttl=5), refresh=0.5, backoff=[0.2], jitter=0.0,
                                on_acquired=rec.acquired, on_lost=rec.lost, never_reacquire=True,
                                sleep=rec.sleep, random=lambda: 0.0)
        await elector.step()
        raw.delete(LOCK_KEY)
        await elector.step()
        for _ in range(5):
            await elector.step()
        assert elector.state == "follower" and raw.get(LOCK_KEY) is None
        await client.aclose()

    run(scenario())
