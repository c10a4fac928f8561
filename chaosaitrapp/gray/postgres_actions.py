"""Actions of the Postgres hang drill: make the target's order writes hang or fail for a while (Postgres up,
every connection kept): ``table_lock``, writes to ``orders`` waiting behind a lock
(:mod:`chaosaitrapp.gray.postgres_lock`), or ``disk_full``, its data volume out of space
(:mod:`chaosaitrapp.gray.balloon`); end it when its time is up, end what is left of one (rollback).

The fault goes through the fault ledger with a lease (its length plus a margin): rollback, watchdog and
cleanup end it; a lock is also ended by the server by itself in any case (the session's own timeout)."""
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import psycopg
from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import value
from chaosaitrapp.deployment.database import target_database
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.evidence.recorder import current_run, dry_wait, record_event
from chaosaitrapp.gray.balloon import BalloonDriver, balloon_path
from chaosaitrapp.gray.family import DISK_PATH, POSTGRES_VOLUME
from chaosaitrapp.gray.postgres_lock import LOCK_MODE, SECRET_ACCESS, TABLE, PostgresLockDriver, redacted
from chaosaitrapp.paths import reports_dir, state_dir
from chaosaitrapp.safety.faults import register_fault, restore_faults, restore_outstanding
from chaosaitrapp.scrub import scrub_text
from chaosaitrapp.waiting import pace_until

__all__ = ["hang_postgres", "wait_hang_over", "end_hang"]

#: The Postgres faults the hang drill knows (``POSTGRES_FAULT``).
POSTGRES_FAULTS = ("table_lock", "disk_full")
#: How many rows the drill's own probe of a full disk writes to a temporary table (enough to need new pages).
FULL_PROBE_ROWS = 400
#: The longest hang a drill may ask for, and the shortest (seconds).
MAX_HANG_S = 600.0
MIN_HANG_S = 1.0
#: How much longer than the hang its ledger lease runs (seconds).
LEASE_MARGIN_S = 15.0

_LOCK = threading.Lock()
_HANGS: List[Union[PostgresLockDriver, BalloonDriver]] = []


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


def balloon_driver(configuration: Configuration = None) -> BalloonDriver:
    """A balloon for the volume the user named (``postgres_volume``, ``disk_path``: :func:`balloon_path`, the
    state and evidence directories guarded); ConfigError when none is named or the place is refused."""
    volume = value(configuration, POSTGRES_VOLUME)
    if not volume:
        raise ConfigError("POSTGRES_FAULT disk_full fills Postgres' data volume, and only one the user names: set "
                          "POSTGRES_VOLUME (postgres_volume) to the directory it is mounted at", key="postgres_volume")
    run = current_run()
    path = balloon_path(str(volume), value(configuration, DISK_PATH) or None, run.run_id if run else "manual",
                        (state_dir(), reports_dir()))
    return BalloonDriver(str(path))


def disk_full_seen(url: str) -> Optional[str]:
    """Postgres' own words when a write of the drill's own that needs new pages (a temporary table of
    :data:`FULL_PROBE_ROWS` rows, gone with the session) fails for want of space (SQLSTATE 53100); None when it
    goes through. TargetError when Postgres cannot be reached."""
    try:
        conn = psycopg.connect(url, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        raise TargetError(f"Postgres: cannot connect to see the disk full: {scrub_text(str(exc).strip())}",
                          target="postgres") from None
    try:
        conn.execute("CREATE TEMP TABLE chaosaitrapp_disk_probe (filler text)")
        conn.execute("INSERT INTO chaosaitrapp_disk_probe SELECT repeat('x', 200) FROM generate_series(1, %s)",
                     (FULL_PROBE_ROWS,))
        return None
    except psycopg.errors.DiskFull as exc:
        return scrub_text(str(exc).strip().splitlines()[0])
    except psycopg.Error as exc:
        raise TargetError(f"Postgres: the disk-full probe failed otherwise: {scrub_text(str(exc).strip())}",
                          target="postgres") from None
    finally:
        conn.close()


def _fill_disk(length: float, configuration: Configuration, secrets: Secrets) -> Dict[str, Any]:
    """The ``disk_full`` fault of :func:`hang_postgres`."""
    driver = balloon_driver(configuration)
    url, _ = target_database(configuration, secrets)
    target = driver.describe()
    entry = register_fault("fill postgres disk", target, driver.undo(), length + LEASE_MARGIN_S)
    record_event("fault", target, f"Postgres' volume filled for {length:g}s (a balloon file)", dependency="postgres",
                 fault_name="disk_full", seconds=length)
    try:
        driver.stop()
        words = disk_full_seen(url)
        if words is None:
            raise TargetError(f"the balloon filled {Path(driver.path).parent}, yet Postgres still writes new pages: "
                              "is POSTGRES_VOLUME the volume its data directory is on?", target=target)
    except BaseException:
        restore_faults(target, driver, 10.0)
        raise
    driver.until_wall = time.time() + length
    with _LOCK:
        _HANGS.append(driver)
    record_event("fault_injected", target, f"Postgres out of space: {words}", dependency="postgres",
                 fault_name="disk_full", seconds=length, filled_bytes=driver.filled)
    return {"target": target, "fault": "disk_full", "seconds": length, "until_wall": driver.until_wall,
            "filled_bytes": driver.filled, "ledger_entry": entry}


def hang_postgres(fault: str = "table_lock", seconds: float = 15, configuration: Configuration = None,
                  secrets: Secrets = None) -> Dict[str, Any]:
    """Make the target's order writes hang or fail for ``seconds``: ``table_lock`` holds ``LOCK TABLE orders
    IN EXCLUSIVE MODE`` on a session of the drill's own (writes wait, reads go on, Postgres stays up);
    ``disk_full`` fills the filesystem of the volume the user named (``postgres_volume``, ``disk_path``) with
    a balloon file, seen to land when a write of the drill's own needing new pages fails for want of space.
    Recorded in the fault ledger first (lease: the fault plus 15 s; the watchdog is given the database secret
    in its environment only). Returns ``{"target", "fault", "seconds", "until_wall", "ledger_entry"}`` (and
    ``filled_bytes``). Raises ConfigError for a bad fault or length, no known database, or a volume not named
    or refused (:func:`chaosaitrapp.gray.balloon.balloon_path`); TargetError when Postgres cannot be reached,
    the lock cannot be had within 5 s, or the balloon does not make Postgres' writes fail (nothing left in
    place then; the entry is cleared)."""
    length = check_hang(fault, seconds)
    if fault == "disk_full":
        return _fill_disk(length, configuration, secrets)
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


def _end(driver: Union[PostgresLockDriver, BalloonDriver], timeout: float, why: str) -> Dict[str, Any]:
    what = "the balloon deleted" if isinstance(driver, BalloonDriver) else f"hang of {TABLE} writes over"
    record_event("restore", driver.describe(), f"{what} ({why})", dependency="postgres")
    restore_faults(driver.describe(), driver, timeout, holder=True)  # ends the session (waits until the lock is
    # gone) or deletes the balloon
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
    """Rollback: end every hang or full disk of this run still on, now, and any the ledger holds from a run
    that died; idempotent. Returns ``{"ended": [...], "from_ledger": n}``; raises TargetError when a lock stays
    held or a balloon cannot be deleted."""
    with _LOCK:
        hangs, _HANGS[:] = list(_HANGS), []
    ended = [_end(d, 30.0, "rollback") for d in hangs]
    return {"ended": ended, "from_ledger": restore_outstanding(PostgresLockDriver, 30.0)
            + restore_outstanding(BalloonDriver, 30.0)}
