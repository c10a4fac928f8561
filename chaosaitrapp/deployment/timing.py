"""The target's own timing: its lock's TTL, refresh period and longest re-acquire delay, and its market-data
ticker's reconnect cap. A drill is judged by what the target really does, never by AITRAPP's timing
assumed for it.

Each figure comes from, first known wins:

1. the settings ``lock_ttl``, ``lock_refresh``, ``lock_backoff_max``, ``ticker_max_delay`` (the environment,
   the deployment description: the lab's gives its profile's; the experiment);
2. for the lock's TTL and refresh: what was **learned** from the lock key (:func:`learn_lock_timing`: the
   key's ``PTTL`` watched until the holder refreshed it twice), kept per target in
   ``$AITRAPP_CHAOS_STATE/timing/`` for a day with when and how it was learned;
3. else it is unknown, and every check that depends on it says unknown (never pass); a wait that needs
   it uses the bound it was told instead (``WAIT_READY_TIMEOUT``).

The evidence records each figure and where it came from (:meth:`Timing.describe`).
"""
from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from chaosaitrapp.config import core_setting, is_explicit, settings_from, value
from chaosaitrapp.deployment.lock import LockReader, lock_key
from chaosaitrapp.errors import ChaosAitrappError
from chaosaitrapp.paths import state_dir

#: The figures, by setting key.
FIGURES = ("lock_ttl", "lock_refresh", "lock_backoff_max", "ticker_max_delay")
#: Learned timing is trusted this long (seconds).
CACHE_MAX_AGE_S = 24 * 3600.0
#: Reads that date their refresh this close together date the same one (seconds).
SAME_REFRESH_S = 0.12
#: Learnings running in the background (:func:`learn_in_background`), by the target's API.
_LEARNING: Dict[str, threading.Thread] = {}


@dataclass
class Timing:
    """The target's timing figures (seconds; None: unknown) and where each came from (``sources``)."""

    lock_ttl: Optional[float] = None
    lock_refresh: Optional[float] = None
    lock_backoff_max: Optional[float] = None
    ticker_max_delay: Optional[float] = None
    sources: Dict[str, str] = field(default_factory=dict)

    def unknown(self, *names: str) -> List[str]:
        """Those of ``names`` (default: every figure) that are unknown."""
        return [n for n in (names or FIGURES) if getattr(self, n) is None]

    def describe(self) -> List[str]:
        """One line per figure: its value and source, or that it is unknown."""
        return [f"{name} {getattr(self, name):g} s ({self.sources.get(name, '?')})" if getattr(self, name) is not None
                else f"{name} unknown" for name in FIGURES]

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready dict (the timeline meta's ``timing``)."""
        return asdict(self)


def _snap(period: float) -> float:
    """A holder's loop sleeps its period *after* its own work, so the period seen runs a little long, never
    short: one of at least a second that is at most 10 % above a whole second is that second (a configured
    ``2`` seen as 2.1 s under load), else it is rounded to 0.1 s."""
    below = math.floor(period)
    if below >= 1 and period - below <= 0.1 * below + 1e-9:
        return float(below)
    return max(0.1, round(period, 1))


def infer_lock_timing(reads: Sequence[Tuple[float, Optional[int]]]) -> Optional[Tuple[float, float]]:
    """``(ttl_s, refresh_s)`` from reads ``(monotonic t, PTTL ms)`` of the lock key, or None while they cannot
    tell it surely. Each read dates the refresh before it: ``t - (TTL - PTTL)`` (so a read need not come
    right after a refresh, and a slow reader, ``docker exec``, still dates it); reads dating the same refresh
    (within :data:`SAME_REFRESH_S`) are one refresh. The period is the time between refreshes: from two, only
    when the reads between them came at most a third of it apart (none in between could have been
    missed); from three or more, the shortest gap, when every gap is a whole multiple of it and the reads
    came at most half a period apart (median). The TTL is
    the longest PTTL seen, rounded up to the whole second when it is within a read's gap of it (Redis ``EX``
    leases are whole seconds), else to 0.1 s. A period not shorter than the TTL is no lease being kept:
    None. The period is snapped as :func:`_snap` says."""
    seen = [(float(t), int(p)) for t, p in reads if p is not None and p > 0]
    if len(seen) < 2:
        return None
    times = [float(t) for t, _ in reads]
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    gap = gaps[len(gaps) // 2] if gaps else 0.0
    longest = max(p for _, p in seen)
    whole = math.ceil(longest / 1000.0)
    ttl_s = float(whole) if whole * 1000 - longest <= gap * 1000 + 50 else math.ceil(longest / 100.0) / 10.0
    dated = sorted((t - (ttl_s * 1000 - p) / 1000.0, t) for t, p in seen)
    refreshes: List[List[float]] = []  # [date, last read dating it]
    for date, t in dated:
        if refreshes and date - refreshes[-1][0] <= SAME_REFRESH_S:
            refreshes[-1][1] = max(refreshes[-1][1], t)
        else:
            refreshes.append([date, t])
    if len(refreshes) < 2:
        return None
    steps = [b[0] - a[0] for a, b in zip(refreshes, refreshes[1:])]
    period = min(steps)
    if len(refreshes) == 2:
        first, second = refreshes[0][0], refreshes[1][0]
        between = [t for t in times if first - gap <= t <= second + gap]
        widest = max((b - a for a, b in zip(between, between[1:])), default=period)
        if widest > period / 3:
            return None
    elif gap > period / 2 or any(abs(step / period - round(step / period)) * period > SAME_REFRESH_S
                                 for step in steps):
        return None  # reads too sparse to rule out a shorter period, or gaps that are no multiple of it
    if period >= ttl_s:
        return None
    return ttl_s, _snap(period)


def learn_lock_timing(reader: LockReader, key: str, timeout: float, interval: float = 0.05,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> Optional[Tuple[float, float]]:
    """Watch ``key`` through ``reader`` until its holder refreshed it twice (:func:`infer_lock_timing`) or
    ``timeout`` seconds pass; ``(ttl_s, refresh_s)`` or None. TargetError when the lock cannot be read."""
    reads: List[Tuple[float, Optional[int]]] = []
    deadline = clock() + timeout
    while clock() < deadline:
        before = clock()
        _, pttl = reader.read(key)
        reads.append(((before + clock()) / 2, pttl))  # a slow read's PTTL is dated mid-way
        found = infer_lock_timing(reads)
        if found is not None:
            return found
        sleep(interval)
    return None


def _cache_path(api: str) -> Path:
    return state_dir() / "timing" / (re.sub(r"[^A-Za-z0-9.-]+", "_", api).strip("_") + ".json")


def cached(api: str, now: Callable[[], float] = time.time) -> Optional[Dict[str, Any]]:
    """The lock timing learned for the target at ``api`` within :data:`CACHE_MAX_AGE_S`, or None."""
    try:
        data = json.loads(_cache_path(api).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or now() - float(data.get("learned_wall", 0)) > CACHE_MAX_AGE_S:
        return None
    return data


def remember(api: str, ttl_s: float, refresh_s: float, how: str) -> Dict[str, Any]:
    """Keep what was learned for the target at ``api`` (no secret: the reader's label names no password)."""
    data = {"api": api, "lock_ttl": ttl_s, "lock_refresh": refresh_s, "learned_wall": time.time(), "how": how}
    path = _cache_path(api)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    return data


def _source(configuration: Optional[Mapping[str, Any]], key: str, from_description: Sequence[str]) -> str:
    setting = core_setting(key)
    if is_explicit({}, setting):
        return f"${setting.env}"
    if key in from_description:
        return "the deployment description"
    return "the experiment's configuration"


def target_timing(configuration: Optional[Mapping[str, Any]] = None, reader: Optional[LockReader] = None,
                  learn: bool = False, from_description: Sequence[str] = (),
                  note: Callable[[str], None] = lambda text: None) -> Timing:
    """The target's timing (module docstring). ``learn``: watch the lock key now, through ``reader``
    (:func:`chaosaitrapp.deployment.lock.lock_reader`), when its TTL or refresh is neither given nor cached
    (up to ``lock_learn_timeout``); ``from_description``: the keys the deployment description set (for the
    sources); ``note`` receives what a reader should know (a learning that failed)."""
    timing = Timing()
    for key in FIGURES:
        given = value(configuration, core_setting(key))
        if given is not None:
            setattr(timing, key, float(given))
            timing.sources[key] = _source(configuration, key, from_description)
    if not timing.unknown("lock_ttl", "lock_refresh"):
        return timing
    api = settings_from(configuration).api
    running = _LEARNING.get(api)
    if running is not None and running is not threading.current_thread():
        running.join()  # what is being learned for this target is known once that ends
    found = cached(api)
    if found is None and learn and reader is not None:
        found = _learn(configuration, reader, api, note)
    if found is not None:
        age = time.time() - float(found["learned_wall"])
        for key in ("lock_ttl", "lock_refresh"):
            if getattr(timing, key) is None:
                setattr(timing, key, float(found[key]))
                timing.sources[key] = f"learned {found['how']}, {age:.0f} s ago"
    return timing


def _learn(configuration: Optional[Mapping[str, Any]], reader: LockReader, api: str,
           note: Callable[[str], None]) -> Optional[Dict[str, Any]]:
    timeout = float(value(configuration, core_setting("lock_learn_timeout")) or 0)
    if timeout <= 0:
        return None
    key = lock_key(configuration)
    try:
        learned = learn_lock_timing(reader, key, timeout)
    except ChaosAitrappError as exc:
        note(f"lock timing: learning it from {key} failed: {exc}")
        return None
    if learned is None:
        note(f"lock timing: {key} was not refreshed within {timeout:g} s of watching it through {reader.label}")
        return None
    return remember(api, learned[0], learned[1], f"from PTTL {key} through {reader.label}")


def learn_in_background(configuration: Optional[Mapping[str, Any]], reader: Optional[LockReader],
                        from_description: Sequence[str] = (),
                        note: Callable[[str], None] = lambda text: None) -> Callable[[], Timing]:
    """Start :func:`target_timing` (learning when ``reader`` is given) in a daemon thread and return at once
    a function that waits for it and returns its Timing (raising what it raised). Until it ends, every
    :func:`target_timing` for the same target waits for it, so nothing is judged by a timing half learned.
    The learning only reads the lock key; a drill refused meanwhile exits without waiting for it."""
    api = settings_from(configuration).api
    outcome: Dict[str, Any] = {}

    def learn() -> None:
        try:
            outcome["timing"] = target_timing(configuration, reader, learn=reader is not None,
                                              from_description=from_description, note=note)
        except BaseException as exc:  # noqa: BLE001 - raised again by the waiting function
            outcome["error"] = exc
        finally:
            _LEARNING.pop(api, None)

    thread = threading.Thread(target=learn, name="aitrapp-learn-timing", daemon=True)
    _LEARNING[api] = thread
    thread.start()

    def result() -> Timing:
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["timing"]

    return result
