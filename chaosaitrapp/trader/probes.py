"""Probes on the AITRAPP API: readiness, health, state and the pause flag, and waits on them.

Every ``wait_*`` polls with a deadline (never a fixed sleep), returns when its condition first
held and when (``held_at_wall``, ``waited_s``), and raises ``ConditionTimeout`` with what it
last saw otherwise. The pause flag is ``/state``'s ``is_paused`` (the orchestrator's), not the
``paused`` key the original scripts read, which does not exist.
"""

from typing import Any, Dict

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.config import settings_from
from chaosaitrapp.errors import ApiError
from chaosaitrapp.trader.client import TraderClient
from chaosaitrapp.trader.readiness import interpret_ready
from chaosaitrapp.waiting import require, wait_stable, wait_until

__all__ = [
    "readiness",
    "ready_status",
    "health",
    "health_status",
    "trader_state",
    "is_paused",
    "trading_mode",
    "wait_ready",
    "wait_not_ready",
    "wait_paused",
    "wait_resumed",
    "wait_healthy",
    "stays_healthy",
]


def _client(configuration: Configuration, secrets: Secrets) -> TraderClient:
    return TraderClient.from_configuration(configuration, secrets)


def _timeout(timeout: float, configuration: Configuration) -> float:
    return float(timeout) if timeout and float(timeout) > 0 else settings_from(configuration).wait_ready_timeout


def readiness(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``GET /ready`` normalised: ``{"code", "ready", "status", "leader", heartbeats...}``.

    Accepts the 503 body in both forms (plain and the older ``{"detail": "...503: {...}"}``).
    """
    code, body = _client(configuration, secrets).json("GET", "/ready", expect=(200, 503))
    return interpret_ready(code, body)


def ready_status(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """``"ready"`` when ``/ready`` answers 200 and ready, else ``"not_ready"`` (the seed's values)."""
    return "ready" if readiness(configuration, secrets)["ready"] else "not_ready"


def health(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``GET /health`` body (always 200 while the process lives)."""
    _, body = _client(configuration, secrets).json("GET", "/health")
    if not isinstance(body, dict) or "status" not in body:
        raise ApiError(f"/health: expected an object with 'status', got {str(body)[:80]!r}")
    return body


def health_status(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """``/health``'s ``status`` (``"healthy"`` while the API is up)."""
    return str(health(configuration, secrets)["status"])


def trader_state(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``GET /state`` body (``is_paused``, ``mode``, positions, P&L...)."""
    _, body = _client(configuration, secrets).json("GET", "/state")
    if not isinstance(body, dict):
        raise ApiError(f"/state: expected a JSON object, got {str(body)[:80]!r}")
    return body


def is_paused(configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """The orchestrator's pause flag, ``/state``'s ``is_paused`` (ApiError if absent or not a bool)."""
    state = trader_state(configuration, secrets)
    value = state.get("is_paused")
    if not isinstance(value, bool):
        raise ApiError(f"/state: expected boolean 'is_paused', got {value!r} (keys: {sorted(state)[:12]})")
    return value


def trading_mode(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """``PAPER`` or ``LIVE`` as ``/health`` reports it."""
    return str(health(configuration, secrets).get("mode", "")).upper()


def wait_ready(timeout: float = 0, interval: float = 0.1, stable_for: float = 0,
               configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/ready`` answers 200 (the seed's ``wait_ready()``), up to ``timeout`` seconds
    (0: ``WAIT_READY_TIMEOUT``, default 90). Returns when it held and the readiness seen.

    ``stable_for`` > 0: 200 must hold on every poll for that many seconds in a row (a drop restarts
    the count): confirms a rollback against a service that has not yet noticed the fault it is
    recovering from. ``stable_for`` < 0 (auto): when the rollbacks of this drill really restored a
    dependency (the method did not get to), long enough for the target to have noticed the fault
    (three lock refresh periods, at most 12 s; see :func:`settle_time`); otherwise 0.
    """
    hold = (settle_time() if rollback_restored_something() else 0.0) if float(stable_for) < 0 else float(stable_for)
    result = wait_stable(lambda: readiness(configuration, secrets), lambda r: r["ready"], hold=hold,
                         timeout=_timeout(timeout, configuration), interval=interval, what="/ready to answer 200")
    out = require(result, "HTTP 200 with status 'ready'").as_dict()
    out["stable_for"] = hold
    return out


def rollback_restored_something() -> bool:
    """True when a dependency was restored during this drill's rollbacks (the run was interrupted or
    its method failed before restoring), or when no evidence control records the drill (unknown)."""
    from chaosaitrapp.evidence.recorder import current_run

    run = current_run()
    if run is None:
        return True
    phases = [i for i, e in enumerate(run.events) if e["event"] == "phase" and e["detail"] == "rollbacks"]
    if not phases:
        return False
    return any(e["event"] == "restored" for e in run.events[phases[-1]:])


def settle_time() -> float:
    """How long a recovered target must stay ready to be trusted: three of its lock refresh
    periods (the lab's when one is up, else AITRAPP's 10 s), at most 12 s."""
    from chaosaitrapp.lab.state import load_state

    state = load_state()
    refresh = float(state.timings.get("refresh", 10.0)) if state is not None else 10.0
    return min(12.0, 3 * refresh)


def wait_not_ready(timeout: float = 0, interval: float = 0.1,
                   configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/ready`` answers 503 (the service noticed the fault), up to ``timeout`` seconds."""
    result = wait_until(lambda: readiness(configuration, secrets), lambda r: not r["ready"],
                        timeout=_timeout(timeout, configuration), interval=interval, what="/ready to answer 503")
    return require(result, "HTTP 503 not_ready").as_dict()


def wait_paused(timeout: float = 0, interval: float = 0.1,
                configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/state`` says ``is_paused: true`` (the seed's ``assert_paused()``, fixed)."""
    result = wait_until(lambda: is_paused(configuration, secrets), lambda p: p is True,
                        timeout=_timeout(timeout, configuration), interval=interval, what="is_paused to be true")
    return require(result, "is_paused true").as_dict()


def wait_resumed(timeout: float = 0, interval: float = 0.1,
                 configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/state`` says ``is_paused: false`` (the seed's ``assert_resumed()``, fixed)."""
    result = wait_until(lambda: is_paused(configuration, secrets), lambda p: p is False,
                        timeout=_timeout(timeout, configuration), interval=interval, what="is_paused to be false")
    return require(result, "is_paused false").as_dict()


def wait_healthy(timeout: float = 10, interval: float = 0.1,
                 configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/health`` answers 200 ``healthy`` (the API process is alive: it must stay so
    during a dependency outage), up to ``timeout`` seconds."""
    result = wait_until(lambda: health_status(configuration, secrets), lambda s: s == "healthy",
                        timeout=float(timeout), interval=interval, what="/health to answer healthy")
    return require(result, "status 'healthy'").as_dict()


def stays_healthy(duration: float = 3, interval: float = 0.1,
                  configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Watch ``/health`` for ``duration`` seconds (holding a fault open meanwhile): every answer
    must be 200 ``healthy``. Fails at the first answer that is not, or when the API stops answering."""
    from chaosaitrapp.errors import ConditionTimeout

    seen = []

    def observe() -> str:
        status = health_status(configuration, secrets)
        seen.append(status)
        if status != "healthy":
            raise ConditionTimeout(f"/health answered {status!r} during the outage (expected 'healthy')")
        return status

    result = wait_until(observe, lambda _: False, timeout=float(duration), interval=interval,
                        what="/health to stay healthy", tolerate=())
    return {"healthy_throughout": True, "watched_s": round(result.waited_s, 3), "answers": len(seen)}
