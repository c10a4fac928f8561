"""Actions and probes of the clock drills: jump the target's wall clock (only its wall clock: its monotonic
clock runs on), watch its lock key while the clock is off, put the clock back (method and rollback).

The target runs with the wall-clock shim and a clock file (:mod:`chaosaitrapp.targets.wallclock`); the drill is told
the file (``clock_file``) and writes an offset into it. That the jump landed is seen from outside, as anyone
sees a server's clock: the ``Date`` header of the target's own answers (uvicorn's, refreshed every second),
waited for until it reads the jumped time (and again until it reads the true time when the clock is put back)."""
import threading
import time
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Dict, List, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.clock.chaosmesh import end_time_chaos, time_chaos_driver
from chaosaitrapp.clock.driver import ClockDriver, ClockFault
from chaosaitrapp.clock.family import CLOCK_FILE
from chaosaitrapp.config import value
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.lock import lock_key
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ApiError, ChaosAitrappError, ConfigError, TargetError
from chaosaitrapp.evidence.recorder import dry_wait, record_event
from chaosaitrapp.safety.faults import register_fault, restore_faults, restore_outstanding
from chaosaitrapp.targets.wallclock import (
    IST,
    TOKEN_EXPIRY,
    TOKEN_EXPIRY_LEAD_S,
    check_jump,
    next_token_expiry,
    read_clock,
)
from chaosaitrapp.waiting import check_duration, pace_until, wait_until

__all__ = ["jump_clock", "wait_token_expiry", "lock_kept", "clock_back", "end_jump"]

#: How long after the file is written the target's ``Date`` header must read the jumped time (seconds).
LANDS_WITHIN_S = 5.0
#: How far a drifting clock must be off ours before the drift counts as seen (seconds; the header's resolution
#: is a second).
DRIFT_SEEN_S = 2.0
#: How far the ``Date`` header (whole seconds, refreshed every second) may be from the expected time.
DATE_SLACK_S = 2.5
#: How much longer than its hold a jump's ledger lease runs (seconds).
LEASE_MARGIN_S = 30.0
#: The longest a clock may stay jumped (seconds).
MAX_HOLD_S = 600.0
#: A jump to the token expiry holds at least this long after the clock reads 06:00 IST (seconds): the
#: expiry, the trader's refresh and orders after it all fall inside the jump.
TOKEN_HOLD_AFTER_S = 20.0
#: How long after the trader's clock should read 06:00 IST its ``Date`` header may take to show it (seconds).
CROSSING_SEEN_WITHIN_S = 3.0
#: A hold of the lease's length (``hold`` 0) outlasts the lock TTL plus refresh by this much (seconds).
PAST_THE_LEASE_S = 2.0

_LOCK = threading.Lock()
_JUMPS: List[ClockFault] = []


def clock_file(configuration: Configuration = None) -> str:
    """The target's clock file (``clock_file``, ``CLOCK_FILE``); ConfigError when none is given."""
    path = value(configuration, CLOCK_FILE)
    if not path:
        raise ConfigError("the clock drills need the target's clock file: set CLOCK_FILE (clock_file) to the "
                          "AITRAPP_WALL_CLOCK_FILE the trader was started with (aitrapp-chaos lab up --fake-clock "
                          "prints the lab's), or on Kubernetes K8S_TRADER_SELECTOR (a TimeChaos of the trader's pods)",
                          key="clock_file")
    return str(path)


def hold_length(hold: Any, configuration: Configuration = None, offline: bool = False) -> float:
    """``hold`` as how long the clock stays stepped (seconds, in (0, 600]); 0 is the target's lock TTL plus
    refresh plus 2 s (a lease refreshed on the wall clock runs out within it), its timing given or learned.
    ``offline``: the number alone. ConfigError for a bad number, or 0 with the timing unknown."""
    length = check_duration("hold", hold)
    if length > MAX_HOLD_S:
        raise ConfigError(f"hold must be at most {MAX_HOLD_S:g}s, got {hold!r}", key="clock_hold")
    if length > 0 or offline:
        return length
    timing = target_timing(configuration)
    if timing.lock_ttl is None or timing.lock_refresh is None:
        raise ConfigError("a hold of the lease's length (CLOCK_HOLD 0) needs the target's lock TTL and refresh: give "
                          "them (LOCK_TTL/LOCK_REFRESH, the deployment description) or let the drill learn them "
                          "(lock_redis or the REDIS_URL secret), or give CLOCK_HOLD", key="clock_hold")
    return timing.lock_ttl + timing.lock_refresh + PAST_THE_LEASE_S


def target_clock_offset(client: TraderClient) -> Optional[float]:
    """How far the target's wall clock is from ours (seconds, whole-second resolution): its ``Date`` header
    minus our time; None when it answers without one."""
    response = client.request("GET", "/health", expect=tuple(range(200, 600)))
    date = response.headers.get("Date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(date).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def _wait_clock(client: TraderClient, accept: Callable[[float], bool], shows: str, timeout: float,
                what: str) -> Dict[str, Any]:
    """Wait (up to ``timeout``) until the target's ``Date`` header, as an offset from our clock, is one
    ``accept`` takes; TargetError naming ``shows`` (what it should show) at the deadline."""
    began = time.monotonic()
    seen: List[Optional[float]] = []

    def read() -> Optional[float]:
        try:
            offset = target_clock_offset(client)
        except ApiError:
            offset = None
        seen.append(offset)
        return offset

    landed = wait_until(read, lambda o: o is not None and accept(o), timeout=timeout, interval=0.2, what=what)
    if not landed.held:
        last = next((o for o in reversed(seen) if o is not None), None)
        shown = "no Date header" if last is None else f"a clock {last:+.0f}s from ours"
        raise TargetError(f"the target's clock did not {shows} within {timeout:g}s (its answers show {shown}): is "
                          "the trader started with the wall-clock shim (LD_PRELOAD of the library aitrapp-chaos "
                          "clock-shim builds, AITRAPP_WALL_CLOCK_FILE set to CLOCK_FILE)?", target="clock")
    return {"offset_seen": round(float(landed.value), 1), "landed_s": round(time.monotonic() - began, 3)}


def _wait_offset(client: TraderClient, expected: float, what: str) -> Dict[str, Any]:
    """Wait until the target's ``Date`` reads our time plus ``expected`` (within ``DATE_SLACK_S``)."""
    return _wait_clock(client, lambda o: abs(o - expected) <= DATE_SLACK_S, f"move to {expected:+.0f}s",
                       LANDS_WITHIN_S, what)


def _wait_drift(client: TraderClient, rate: float) -> Dict[str, Any]:
    """Wait until the target's clock, drifting at ``rate``, is ``DRIFT_SEEN_S`` off ours in its direction."""
    sign = 1.0 if rate > 1 else -1.0
    return _wait_clock(client, lambda o: sign * o >= DRIFT_SEEN_S,
                       f"drift {sign * DRIFT_SEEN_S:+g}s at x{rate:g}",
                       DRIFT_SEEN_S / abs(rate - 1) + LANDS_WITHIN_S, f"the target's clock to drift at x{rate:g}")


def _clock_driver(seconds: float, rate: float, lease_s: float, configuration: Configuration) -> ClockFault:
    """How the jump is made: the clock file's :class:`ClockDriver` when ``clock_file`` is given, else on Kubernetes a
    TimeChaos of the trader's pods (:mod:`chaosaitrapp.clock.chaosmesh`; a step only); ConfigError when neither
    is given, the file is jumped already, or a drift is asked of Kubernetes."""
    if not value(configuration, CLOCK_FILE):
        if rate != 1:
            raise ConfigError("a drift needs the clock file: a TimeChaos steps the clock, it cannot make it drift",
                              key="clock_jump")
        driver = time_chaos_driver(seconds, lease_s, configuration)
        if driver is not None:
            return driver
    path = clock_file(configuration)
    if not read_clock(path).true:
        raise ConfigError(f"clock file {path} already holds an offset or a drift: the clock is jumped already (another run's, "
                          "or run aitrapp-chaos cleanup)", key="clock_file")
    return ClockDriver(path, seconds, rate)


def jump_clock(jump: str = "-300", hold: float = 0, configuration: Configuration = None,
               secrets: Secrets = None) -> Dict[str, Any]:
    """Jump the target's wall clock by ``jump`` seconds (``+3600``, ``-300``; its monotonic clock runs on), or
    ``to_token_expiry``: to 10 s before the next 06:00 IST (Kite's daily token expiry; see
    :func:`wait_token_expiry`), or make it drift (``x0.25``: a quarter as fast; seen once it is 2 s off), for
    ``hold`` seconds (:func:`hold_length`; at least 30 s for a jump to the token
    expiry; the drill watches it meanwhile and puts it back), recorded in the
    fault ledger first (lease: the hold plus 30 s), and wait until the target's ``Date`` header shows it.
    Returns ``{"target", "seconds", "rate", "hold", "offset_seen", "landed_s", "ledger_entry"}``. Raises ConfigError for
    a bad jump or hold, a clock file not given (nor, on Kubernetes, the trader's pods: then a TimeChaos steps their
    clock), missing or already jumped (nothing written); TargetError when the
    target's clock did not move (the clock is put back first)."""
    setting = check_jump(jump)
    seconds = setting.offset
    hold = hold_length(hold, configuration)
    to_expiry = str(jump).strip() == TOKEN_EXPIRY
    if to_expiry:
        hold = max(hold, TOKEN_EXPIRY_LEAD_S + TOKEN_HOLD_AFTER_S)
    driver = _clock_driver(seconds, setting.rate, hold + LEASE_MARGIN_S, configuration)
    client = TraderClient.from_configuration(configuration, secrets)
    driver.hold = hold
    driver.expiry_wall = next_token_expiry(time.time() + seconds) if to_expiry else None
    target = driver.describe()
    entry = register_fault("jump clock", target, driver.undo(), hold + LEASE_MARGIN_S)
    how = f"drifting at x{setting.rate:g}" if setting.rate != 1 else f"jumped by {seconds:+g}s"
    record_event("fault", target, f"wall clock {how}", dependency="clock", fault_name="jump", seconds=seconds,
                 rate=setting.rate)
    try:
        driver.stop()
        landed = _wait_drift(client, setting.rate) if setting.rate != 1 else \
            _wait_offset(client, seconds, f"the target's clock to read {seconds:+g}s")
        driver.landed = time.monotonic()
    except BaseException:
        restore_faults(target, driver, 10.0)
        raise
    with _LOCK:
        _JUMPS.append(driver)
    record_event("fault_injected", target, f"the target's clock reads {landed['offset_seen']:+.0f}s",
                 dependency="clock", fault_name="jump", seconds=seconds, rate=setting.rate, **landed)
    return {"target": target, "seconds": seconds, "rate": setting.rate, "hold": hold, **landed, "ledger_entry": entry}


def wait_token_expiry(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the target's wall clock, jumped ``to_token_expiry`` by this run, reads 06:00 IST (Kite's daily
    token expiry: the next step expires the token at the broker, as Kite does then), and its ``Date`` header
    shows it; the instant is a ``clock_crossed`` event. Returns ``{"trader_time", "crossed_wall",
    "seen_within_s"}``; raises ConfigError when this run made no jump to the token expiry, TargetError when the
    header does not show 06:00 within 3 s of it."""
    skipped = dry_wait("the trader's clock to read 06:00 IST")
    if skipped is not None:
        return skipped
    with _LOCK:
        drivers = [d for d in _JUMPS if d.expiry_wall is not None]
    if not drivers:
        raise ConfigError("wait_token_expiry follows a jump_clock to_token_expiry of the same run, and this run made "
                          "none", key="clock_jump")
    driver = drivers[-1]
    crossed_wall = float(driver.expiry_wall) - driver.seconds  # our time when the trader's reads 06:00 IST
    pace_until(time.monotonic() + max(0.0, crossed_wall - time.time()))
    client = TraderClient.from_configuration(configuration, secrets)
    began = time.monotonic()
    seen = wait_until(lambda: target_clock_offset(client), lambda o: o is not None and time.time() + o >= float(
        driver.expiry_wall) - 0.5, timeout=CROSSING_SEEN_WITHIN_S, interval=0.1,
                      what="the target's Date header to read 06:00 IST")
    if not seen.held:
        raise TargetError("the target's clock should read 06:00 IST now, but its Date header does not show it within "
                          f"{CROSSING_SEEN_WITHIN_S:g}s", target=driver.describe())
    trader_time = datetime.fromtimestamp(float(driver.expiry_wall), IST).isoformat()
    record_event("clock_crossed", driver.describe(), f"the trader's clock reads {trader_time} (Kite's token expiry)",
                 dependency="clock", trader_time=trader_time)
    return {"trader_time": trader_time, "crossed_wall": round(crossed_wall, 3),
            "seen_within_s": round(time.monotonic() - began, 3)}


def lock_kept(duration: float = 0, interval: float = 0.2, configuration: Configuration = None,
              secrets: Secrets = None) -> Dict[str, Any]:
    """Read the target's lock key every ``interval`` seconds for ``duration`` seconds (0: what is left of the
    hold of the clock jump this run made, counted from when it landed), the clock held off meanwhile; each read a ``lock_read`` event (``held``: the key exists; ``pttl_ms``), judged by
    :mod:`chaosaitrapp.checks.clock`. Returns ``{"reads", "absent"}``; raises ConfigError when the lock key
    cannot be reached (lock_redis, the REDIS_URL secret, the Redis target), or for duration 0 with no jump."""
    duration = check_duration("duration", duration)
    interval = check_duration("interval", interval, allow_zero=False)
    skipped = dry_wait("the lock to be kept")
    if skipped is not None:
        return skipped
    if duration == 0:
        with _LOCK:
            holds = [d.hold - (time.monotonic() - d.landed) for d in _JUMPS
                     if d.hold is not None and d.landed is not None]
        if not holds:
            raise ConfigError("lock_kept with duration 0 watches for the hold of this run's clock jump, and this run "
                              "jumped no clock: give a duration", key="duration")
        duration = max(0.0, max(holds))
    reader = target_lock_reader(configuration, secrets)
    if reader is None:
        raise ConfigError("the clock drill reads the target's lock key: set lock_redis (redis://host:port/db, "
                          "docker:NAME, process:PIDFILE), the REDIS_URL secret, or REDIS_TARGET", key="lock_redis")
    key = lock_key(configuration)
    reads = absent = 0
    end = time.monotonic() + duration
    while True:
        try:
            holder, pttl = reader.read(key)
        except ChaosAitrappError as exc:
            record_event("lock_read", reader.label, f"unreadable: {exc}", held=None)
        else:
            reads += 1
            absent += holder is None
            record_event("lock_read", reader.label, "held" if holder is not None else "absent",
                         held=holder is not None, pttl_ms=pttl)
        left = end - time.monotonic()
        if left <= 0:
            break
        time.sleep(min(interval, left))  # the read cadence, not a wait for a state
    return {"reads": reads, "absent": absent}


def _back(driver: ClockFault, client: Optional[TraderClient], why: str) -> Dict[str, Any]:
    record_event("restore", driver.describe(), f"clock put back ({why})", dependency="clock")
    restore_faults(driver.describe(), driver, 10.0)
    seen: Dict[str, Any] = {}
    if client is not None:
        seen = _wait_offset(client, 0.0, "the target's clock to read the true time")
    record_event("restored", driver.describe(), "the target's clock reads the true time", dependency="clock", **seen)
    return {"target": driver.describe(), **seen}


def clock_back(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Put every clock this run jumped back (the file holds ``+0``, the ledger entry cleared), then wait until
    the target's ``Date`` reads the true time. Returns ``{"restored": [...]}``; raises TargetError when it does not."""
    with _LOCK:
        jumps, _JUMPS[:] = list(_JUMPS), []
    client = TraderClient.from_configuration(configuration, secrets)
    return {"restored": [_back(d, client, "the hold is over") for d in jumps]}


def end_jump(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Rollback: put back every clock this run jumped and any the ledger holds from a run that died;
    idempotent, and touches nothing else (the target's answers are not waited for: the rollback's readiness
    probe does that). Returns ``{"restored": [...], "from_ledger": n}``; raises TargetError when a clock file
    cannot be written (its ledger entry stays, for the watchdog and cleanup to try again)."""
    with _LOCK:
        jumps, _JUMPS[:] = list(_JUMPS), []
    restored = [_back(d, None, "rollback") for d in jumps]
    return {"restored": restored, "from_ledger": restore_outstanding(ClockDriver, 10.0) + end_time_chaos()}
