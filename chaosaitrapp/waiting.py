"""Wait on a condition with a deadline, and record when it first held.

Never a fixed sleep: :func:`wait_until` polls ``observe`` every ``interval`` seconds until
``accept(value)`` is true or ``timeout`` passes. Clock and sleep are injectable so tests can
assert exact polling sequences without sleeping.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

from chaosaitrapp.errors import ConditionTimeout, ConfigError

#: How often a wait says it is still waiting (seconds).
PROGRESS_EVERY_S = 10.0
#: Chaos Toolkit's logger: its console handler shows these lines during ``chaos run``.
progress = logging.getLogger("chaostoolkit")


@dataclass
class WaitResult:
    """What a wait saw: whether the condition held, when (monotonic offset and wall time),
    how many polls it took, the last observed value and the last error (if any)."""

    held: bool
    what: str
    waited_s: float
    polls: int
    value: Any = None
    held_at_wall: Optional[float] = None
    last_error: Optional[str] = None
    history: List[Tuple[float, Any]] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-friendly summary for a Chaos Toolkit journal (history trimmed to 20 points)."""
        return {
            "held": self.held,
            "what": self.what,
            "waited_s": round(self.waited_s, 3),
            "polls": self.polls,
            "value": self.value,
            "held_at_wall": self.held_at_wall,
            "last_error": self.last_error,
            "history": [[round(t, 3), v] for t, v in self.history[-20:]],
        }


def check_duration(name: str, value: float, *, allow_zero: bool = True) -> float:
    """Validate a duration-like experiment value; raise ConfigError naming it if bad."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}", name=name, value=value)
    if number != number or number < 0 or (number == 0 and not allow_zero):
        raise ConfigError(f"{name} must be a positive number of seconds, got {value!r}", name=name, value=value)
    return number


def wait_until(
    observe: Callable[[], Any],
    accept: Callable[[Any], bool],
    *,
    timeout: float,
    interval: float = 0.1,
    what: str = "condition",
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    tolerate: Tuple[type, ...] = (Exception,),
) -> WaitResult:
    """Poll ``observe()`` until ``accept(value)`` holds or ``timeout`` seconds pass.

    Exceptions of the ``tolerate`` types raised by ``observe`` count as "not yet" and are
    remembered as ``last_error``, except those marked ``fatal`` (re-raised at once). Returns a :class:`WaitResult`; never raises on timeout
    (see :func:`require`). Every :data:`PROGRESS_EVERY_S` seconds of waiting a line says what it waits for,
    how long it has and what it last saw (Chaos Toolkit's console shows it: a long wait is not silence).
    """
    timeout = check_duration("timeout", timeout)
    interval = check_duration("interval", interval, allow_zero=False)
    start = clock()
    deadline = start + timeout
    polls = 0
    value: Any = None
    last_error: Optional[str] = None
    history: List[Tuple[float, Any]] = []
    reported = 0.0
    while True:
        polls += 1
        try:
            value = observe()
            last_error = None
            ok = bool(accept(value))
        except tolerate as exc:  # noqa: PERF203 - a failed poll is an observation
            if getattr(exc, "fatal", False):
                raise  # e.g. a 401: waiting longer cannot help
            value, ok = None, False
            last_error = f"{type(exc).__name__}: {exc}"
        now = clock()
        if not history or history[-1][1] != value:
            history.append((now - start, value))
        if ok:
            return WaitResult(True, what, now - start, polls, value, wall(), None, history)
        if now >= deadline:
            return WaitResult(False, what, now - start, polls, value, None, last_error, history)
        if now - start >= reported + PROGRESS_EVERY_S:
            reported = now - start
            seen = last_error or f"last value {value!r}"[:160]
            progress.info("chaosaitrapp: still waiting for %s: %.0f s of %.0f s (%s)", what, reported, timeout, seen)
        sleep(max(0.0, min(interval, deadline - now)))


def require(result: WaitResult, expected: str) -> WaitResult:
    """Raise :class:`ConditionTimeout` naming what was seen against ``expected`` unless it held."""
    if result.held:
        return result
    seen = f"last value {result.value!r}"
    if result.last_error:
        seen += f", last error {result.last_error}"
    raise ConditionTimeout(
        f"timed out after {result.waited_s:.1f}s waiting for {result.what}: expected {expected}, {seen}",
        what=result.what,
        waited_s=result.waited_s,
    )


def wait_stable(
    observe: Callable[[], Any],
    accept: Callable[[Any], bool],
    *,
    hold: float,
    timeout: float,
    interval: float = 0.1,
    what: str = "condition",
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> WaitResult:
    """Like :func:`wait_until`, but the condition must hold on every poll for ``hold`` seconds in a
    row; a poll where it does not (or that fails) starts the stretch again. ``held_at_wall`` is when
    the stable stretch began. ``hold`` 0 is :func:`wait_until`."""
    hold = check_duration("hold", hold)
    if hold == 0:
        return wait_until(observe, accept, timeout=timeout, interval=interval, what=what, clock=clock,
                          wall=wall, sleep=sleep)
    began = clock()
    stretch: Optional[Tuple[float, float]] = None  # (monotonic, wall) when the current stretch began
    polls = 0

    def held_long_enough(value: Any) -> bool:
        nonlocal stretch
        if not accept(value):
            stretch = None
            return False
        now = clock()
        if stretch is None:
            stretch = (now, wall())
        return now - stretch[0] >= hold

    def counted() -> Any:
        nonlocal polls, stretch
        polls += 1
        try:
            return observe()
        except Exception:
            stretch = None
            raise

    result = wait_until(counted, held_long_enough, timeout=timeout + hold, interval=interval,
                        what=f"{what} for {hold:g}s in a row", clock=clock, wall=wall, sleep=sleep)
    if result.held and stretch is not None:
        result.held_at_wall = stretch[1]
    result.waited_s = clock() - began
    return result


#: The longest single sleep of :func:`pace_until` (seconds).
PACE_SLICE_S = 0.1


def pace_until(due: float, *, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Sleep until monotonic time ``due`` for pacing (a rate, a backoff: a moment, not a state), in slices of
    at most ``PACE_SLICE_S``. A process-directed signal (SIGTERM, SIGINT from ``chaos run``'s group) may be
    delivered to any thread; one that lands in a worker thread does not wake the main thread's sleep, and
    Python runs its handler only once that sleep ends: a 20 s pause between paced orders held a SIGTERM
    for 20 s. Sliced, the handler runs within a slice."""
    while True:
        left = due - clock()
        if left <= 0:
            return
        sleep(min(left, PACE_SLICE_S))
