"""Actions of the Postgres hang drill: make the target's order writes hang for a while (Postgres up, every
connection kept, writes to ``orders`` waiting behind a lock: :mod:`chaosaitrapp.gray.postgres_lock`), end
the hang when its time is up, end what is left of one (rollback).

The hang goes through the fault ledger with a lease (its length plus a margin): rollback, watchdog and
cleanup end it; and the server ends it by itself in any case (the session's own timeout)."""
import threading
import time
from typing import Any, Dict, List

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.deployment.database import target_database
from chaosaitrapp.errors import ConfigError
from chaosaitrapp.evidence.recorder import dry_wait, record_event
from chaosaitrapp.gray.postgres_lock import LOCK_MODE, SECRET_ACCESS, TABLE, PostgresLockDriver, redacted
from chaosaitrapp.safety.faults import register_fault, restore_faults, restore_outstanding
from chaosaitrapp.waiting import pace_until

__all__ = ["hang_postgres", "wait_hang_over", "end_hang"]

#: The Postgres faults the hang drill knows (``POSTGRES_FAULT``).
POSTGRES_FAULTS = ("table_lock",)
#: The longest hang a drill may ask for, and the shortest (seconds).
MAX_HANG_S = 600.0
MIN_HANG_S = 1.0
#: How much longer than the hang its ledger lease runs (seconds).
LEASE_MARGIN_S = 15.0

_LOCK = threading.Lock()
_HANGS: List[PostgresLockDriver] = []


def check_hang(fault: Any, seconds: Any) -> float:
    """The hang's length as a number in [1, 600] for a known ``fault`` (:data:`POSTGRES_FAULTS`); ConfigError
    naming the value otherwise."""
    if fault not in POSTGRES_FAULTS:
        raise ConfigError(f"postgres fault must be one of {', '.join(POSTGRES_FAULTS)}, got {fault!r}",
                          key="postgres_fault")
    try:
        length = float(seconds)
    except (TypeError, ValueError):
        raise ConfigError(f"hang seconds must be a number, got {seconds!r}", key="hang_seconds") from None
    if length != length or length < MIN_HANG_S or length > MAX_HANG_S:
        raise ConfigError(f"hang seconds must be between {MIN_HANG_S:g} and {MAX_HANG_S:g}, got {seconds!r}",
                          key="hang_seconds")
    return length


def lock_driver(seconds: float, configuration: Configuration = None, secrets: Secrets = None) -> PostgresLockDriver:
    """A driver for the target's database (:func:`chaosaitrapp.deployment.database.target_database`), named
    without its password; ConfigError when no database is known."""
    url, from_secret = target_database(configuration, secrets)
    if from_secret:
        return PostgresLockDriver(url, SECRET_ACCESS, "the DATABASE_URL secret", seconds)
    return PostgresLockDriver(url, url, redacted(url), seconds)


def hang_postgres(fault: str = "table_lock", seconds: float = 15, configuration: Configuration = None,
                  secrets: Secrets = None) -> Dict[str, Any]:
    """Make the target's order writes hang for ``seconds``: ``table_lock`` holds ``LOCK TABLE orders IN
    EXCLUSIVE MODE`` on a session of the drill's own (writes wait, reads go on, Postgres stays up). Recorded
    in the fault ledger first (lease: the hang plus 15 s; the watchdog is given the database secret in its
    environment only). Returns ``{"target", "fault", "seconds", "until_wall", "ledger_entry"}``. Raises
    ConfigError for a bad fault or length or no known database, TargetError when Postgres cannot be reached
    or the lock cannot be had within 5 s (nothing held then; the entry is cleared)."""
    length = check_hang(fault, seconds)
    driver = lock_driver(length, configuration, secrets)
    target = driver.describe()
    driver.open()  # the session first, so the record names its backend
    try:
        env = {"DATABASE_URL": driver.url} if driver.access == SECRET_ACCESS else None
        entry = register_fault("hang postgres writes", target, driver.undo(), length + LEASE_MARGIN_S,
                               restart_env=env)
    except BaseException:
        driver.start(10.0)
        raise
    record_event("fault", target, f"writes to {TABLE} hang for {length:g}s ({LOCK_MODE} lock)",
                 dependency="postgres", fault_name=fault, seconds=length)
    try:
        driver.stop()
    except BaseException:
        restore_faults(target, driver, 10.0, holder=True)
        raise
    with _LOCK:
        _HANGS.append(driver)
    record_event("fault_injected", target, f"{TABLE} locked until {driver.until_wall:.3f}", dependency="postgres",
                 fault_name=fault, seconds=length)
    return {"target": target, "fault": fault, "seconds": length, "until_wall": driver.until_wall,
            "ledger_entry": entry}


def _end(driver: PostgresLockDriver, timeout: float, why: str) -> Dict[str, Any]:
    record_event("restore", driver.describe(), f"hang of {TABLE} writes over ({why})", dependency="postgres")
    restore_faults(driver.describe(), driver, timeout, holder=True)  # ends the session; waits until the lock is gone
    record_event("restored", driver.describe(), f"writes to {TABLE} go through again", dependency="postgres")
    return {"target": driver.describe(), "ended": True}


def wait_hang_over(timeout: float = 30, configuration: Configuration = None,
                   secrets: Secrets = None) -> Dict[str, Any]:
    """Let each hang of this run last its length, then end it (the lock released, up to ``timeout`` seconds
    for that), clear it from the ledger and mark the end on the timeline. Returns ``{"ended": [...]}``;
    raises TargetError when a lock is still held."""
    skipped = dry_wait("the hang to end")
    if skipped is not None:
        return skipped
    with _LOCK:
        hangs, _HANGS[:] = list(_HANGS), []
    ended = []
    for driver in hangs:
        pace_until_wall(driver.until_wall or 0.0)
        ended.append(_end(driver, float(timeout), "its time is up"))
    return {"ended": ended}


def pace_until_wall(until_wall: float) -> None:
    """Sleep (in slices) until the wall-clock instant ``until_wall``: a hang's planned end is a moment."""
    pace_until(time.monotonic() + max(0.0, until_wall - time.time()))


def end_hang(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Rollback: end every hang of this run still on, now, and any the ledger holds from a run that died;
    idempotent. Returns ``{"ended": [...], "from_ledger": n}``; raises TargetError when a lock stays held."""
    with _LOCK:
        hangs, _HANGS[:] = list(_HANGS), []
    ended = [_end(d, 30.0, "rollback") for d in hangs]
    return {"ended": ended, "from_ledger": restore_outstanding(PostgresLockDriver, 30.0)}
