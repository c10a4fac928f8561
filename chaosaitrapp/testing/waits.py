"""Test-side waits on :func:`chaosaitrapp.waiting.wait_until` (the one poll helper): fail the test
naming what did not happen, or tell whether a condition held throughout."""
from __future__ import annotations

from typing import Any, Callable

from chaosaitrapp.waiting import wait_until


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something truthy (returned); AssertionError naming ``what``
    and the last error at ``timeout``."""
    result = wait_until(condition, bool, timeout=timeout, interval=interval, what=what)
    if not result.held:
        raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value {result.value!r}, "
                             f"last error {result.last_error})")
    return result.value


def holds_for(condition: Callable[[], Any], duration: float, interval: float = 0.1) -> bool:
    """True when ``condition`` stayed truthy at every poll during ``duration`` seconds (an exception
    counts as false)."""

    def ok() -> bool:
        try:
            return bool(condition())
        except Exception:
            return False

    return not wait_until(ok, lambda held: not held, timeout=duration, interval=interval,
                          what="the condition to break").held
