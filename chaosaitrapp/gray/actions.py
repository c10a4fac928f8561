"""Actions of the gray-failure drills: stall the target's Redis (up, connected, answering nothing) for a
while, wait for it to answer again, end what is left of a stall (rollback).

A stall is ``CLIENT PAUSE <ms> ALL`` (:mod:`chaosaitrapp.gray.stall`): it ends by itself when its length has
passed, so no run can leave Redis stalled for longer; it still goes through the fault ledger with a lease
(a watchdog waits for Redis to answer again and clears it)."""
import threading
import time
from typing import Any, Dict, List

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.lock import LockReader
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import dry_wait, record_event
from chaosaitrapp.gray.stall import SECRET_ACCESS, RedisStallDriver
from chaosaitrapp.safety.faults import register_fault, restore_faults, restore_outstanding

__all__ = ["stall_redis", "wait_stall_over", "end_stall"]

#: The longest stall a drill may ask for (seconds).
MAX_STALL_S = 600.0
#: How much longer than the stall its ledger lease runs (seconds): the watchdog's wait for Redis included.
LEASE_MARGIN_S = 15.0
#: A stall of the lease's length (``seconds`` 0) outlasts it by this much (seconds).
PAST_THE_LEASE_S = 1.0

_LOCK = threading.Lock()
_STALLS: List[RedisStallDriver] = []


def check_stall_seconds(seconds: Any) -> float:
    """``seconds`` as a number in [0, 600] (0: the lease); ConfigError naming the value otherwise."""
    try:
        length = float(seconds)
    except (TypeError, ValueError):
        raise ConfigError(f"stall seconds must be a number (0: the lease), got {seconds!r}", key="stall_seconds") \
            from None
    if length != length or length < 0 or length > MAX_STALL_S:
        raise ConfigError(f"stall seconds must be between 0 and {MAX_STALL_S:g}, got {seconds!r}",
                          key="stall_seconds")
    return length


def stall_length(seconds: Any, configuration: Configuration = None, brief: bool = False) -> float:
    """``seconds`` as the stall's length, a number in (0, 600], held against the target's lease window (its
    lock TTL minus its refresh period, given or learned: the shortest time without a refresh after which the
    lease could run out).

    A stall that threatens the lease (``brief`` False) must outlast that window, so the instance has to
    pause; 0 is the lease itself (TTL + refresh + 1 s). A ``brief`` stall must end within the window, so
    nothing requires a pause; 0 is half the window. ConfigError for a bad number (:func:`check_stall_seconds`),
    for 0 when the timing is unknown, and for a length on the wrong side of the window (naming both); a
    length given with the timing unknown is taken as it is (the checks that need the timing say unknown)."""
    length = check_stall_seconds(seconds)
    timing = target_timing(configuration)
    known = timing.lock_ttl is not None and timing.lock_refresh is not None
    if length == 0 and not known:
        raise ConfigError("a stall of the lease's length (STALL_SECONDS 0) needs the target's lock TTL and refresh: "
                          "give them (the deployment description, LOCK_TTL/LOCK_REFRESH) or let the drill learn "
                          "them (lock_redis or the REDIS_URL secret), or give STALL_SECONDS", key="stall_seconds")
    if not known:
        return length
    window = max(0.0, timing.lock_ttl - timing.lock_refresh)
    if length == 0:
        return window / 2 if brief else timing.lock_ttl + timing.lock_refresh + PAST_THE_LEASE_S
    if brief and length >= window:
        raise ConfigError(f"a brief stall must end before the lease could run out: {length:g}s is not shorter than "
                          f"the target's lock TTL {timing.lock_ttl:g}s minus its refresh {timing.lock_refresh:g}s "
                          f"({window:g}s); use redis_stall for a stall that threatens the lease",
                          key="stall_seconds")
    if not brief and length <= window:
        raise ConfigError(f"a stall of {length:g}s cannot make the lease run out (lock TTL {timing.lock_ttl:g}s minus "
                          f"refresh {timing.lock_refresh:g}s = {window:g}s without a refresh): nothing requires a pause; "
                          "use redis_stall_brief, or a STALL_SECONDS above that", key="stall_seconds")
    return length


def access_of(reader: LockReader) -> str:
    """How the ledger names the way to ``reader``'s Redis (never a password)."""
    if reader.container:
        return f"docker:{reader.container}"
    if reader.label == "the REDIS_URL secret":
        return SECRET_ACCESS
    return str(reader.url)


def stall_reader(configuration: Configuration = None, secrets: Secrets = None) -> LockReader:
    """The way to the target's Redis (the lock reader's: ``lock_redis``, the ``REDIS_URL`` secret, the Redis
    target); ConfigError when none is known."""
    reader = target_lock_reader(configuration, secrets)
    if reader is None:
        raise ConfigError("the stall needs a way to the target's Redis: set lock_redis (redis://host:port/db, "
                          "docker:NAME, process:PIDFILE), the REDIS_URL secret, or REDIS_TARGET", key="lock_redis")
    return reader


def stall_redis(seconds: float = 0, brief: bool = False, configuration: Configuration = None,
                secrets: Secrets = None) -> Dict[str, Any]:
    """Stall the target's Redis for ``seconds`` (:func:`stall_length`: 0 is the lease, or half the lease
    window when ``brief``; a ``brief`` stall ends before the lease could run out, any other outlasts that):
    every client's commands wait, connections stay open, nothing is refused, then Redis carries on by itself.
    Recorded in the fault ledger first (lease: the stall plus 15 s). Returns ``{"target", "seconds", "brief",
    "until_wall", "ledger_entry"}``. Raises ConfigError for a bad length (nothing stalled) or no way to Redis,
    TargetError when Redis refuses the pause (nothing stalled then; the entry is cleared)."""
    length = stall_length(seconds, configuration, bool(brief))
    reader = stall_reader(configuration, secrets)
    driver = RedisStallDriver(reader, access_of(reader), length)
    driver.until_wall = time.time() + length
    target = driver.describe()
    env = {"REDIS_URL": str(reader.url)} if driver.access == SECRET_ACCESS else None  # the watchdog's own, never the ledger's
    entry = register_fault("stall redis", target, driver.undo(), length + LEASE_MARGIN_S, restart_env=env)
    record_event("fault", target, f"Redis stalled for {length:g}s (CLIENT PAUSE ALL)", dependency="redis",
                 fault_name="stall", seconds=length)
    try:
        driver.stop()
    except BaseException:
        restore_faults(target, driver, 10.0)
        raise
    with _LOCK:
        _STALLS.append(driver)
    record_event("fault_injected", target, f"Redis stalled until {driver.until_wall:.3f}", dependency="redis",
                 fault_name="stall", seconds=length, brief=bool(brief))
    return {"target": target, "seconds": length, "brief": bool(brief), "until_wall": driver.until_wall,
            "ledger_entry": entry}


def _over(driver: RedisStallDriver, timeout: float, why: str) -> Dict[str, Any]:
    driver.start(timeout)  # a stall ends by itself: the restore is the instant Redis answers again
    record_event("restore", driver.describe(), f"stall of Redis over ({why})", dependency="redis")
    restore_faults(driver.describe(), driver, timeout)  # clears the ledger; Redis answers, so at once
    record_event("restored", driver.describe(), "Redis answers again", dependency="redis")
    return {"target": driver.describe(), "answers": True}


def wait_stall_over(timeout: float = 30, configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the stalled Redis answers again (its stall's length passed; up to ``timeout`` seconds more),
    then clear the stall from the ledger and mark the end on the timeline. Returns ``{"ended": [...]}``;
    raises TargetError when Redis still does not answer."""
    skipped = dry_wait("the stall to end")
    if skipped is not None:
        return skipped
    with _LOCK:
        stalls, _STALLS[:] = list(_STALLS), []
    return {"ended": [_over(d, float(timeout), "its time is up") for d in stalls]}


def end_stall(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Rollback: wait out every stall of this run still on (a stall cannot be cut short) and any the ledger
    holds from a run that died; idempotent. Returns ``{"ended": [...], "from_ledger": n}``; raises TargetError
    when a stalled Redis does not answer again."""
    with _LOCK:
        stalls, _STALLS[:] = list(_STALLS), []
    ended = [_over(d, 60.0, "rollback") for d in stalls]
    return {"ended": ended, "from_ledger": restore_outstanding(RedisStallDriver, 60.0)}


