"""Probes on the AITRAPP API: readiness, health, state and the pause flag, and waits on them.

Every ``wait_*`` polls with a deadline (never a fixed sleep), returns when its condition first held
and when (``held_at_wall``, ``waited_s``), and raises ``ConditionTimeout`` with what it last saw
otherwise. ``timeout`` 0 (the default) means the configured deadline of the wait's kind: detection
waits (the service noticed the fault: ``wait_not_ready``, ``wait_paused``) default to
``DETECT_TIMEOUT`` (30 s), recovery waits (``wait_ready``, ``wait_resumed``) to
``WAIT_READY_TIMEOUT`` (90 s). In a dry run (``chaos run --dry``) a wait returns at once without
polling: nothing was injected, so the state it waits for cannot come.

The pause flag is ``/state``'s ``is_paused`` (the orchestrator's), not the ``paused`` key the
original scripts read, which does not exist.
"""

import time
from typing import Any, Callable, Dict, List

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.api.readiness import interpret_ready
from chaosaitrapp.deployment.timing import target_timing
from chaosaitrapp.errors import ApiError, ConditionTimeout, ConfigError
from chaosaitrapp.evidence.recorder import current_run, dry_wait, record_event, wait_deadline
from chaosaitrapp.waiting import check_duration, require, wait_stable, wait_until

__all__ = [
    "readiness",
    "ready_status",
    "health",
    "health_status",
    "trader_state",
    "is_paused",
    "trading_mode",
    "market_data_connected",
    "wait_market_data",
    "wait_ready",
    "wait_not_ready",
    "wait_feed_loss_noticed",
    "wait_paused",
    "wait_resumed",
    "wait_healthy",
    "stays_healthy",
    "answers_throughout",
]


def _client(configuration: Configuration, secrets: Secrets) -> TraderClient:
    return TraderClient.from_configuration(configuration, secrets)


def readiness(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``GET /ready``, normalised.

    Returns ``{"code", "ready", "status", "leader", "marketdata_heartbeat", "order_stream_heartbeat",
    "scan_heartbeat"}``; accepts the 503 body in both forms the service answers (plain, and the older
    ``{"detail": "...503: {...}"}``). Raises ApiError when the API is unreachable, refuses the key
    (401) or answers anything but 200/503 with a readable body.
    """
    code, body = _client(configuration, secrets).json("GET", "/ready", expect=(200, 503))
    return interpret_ready(code, body)


def ready_status(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """The seed's readiness word: returns ``"ready"`` when ``/ready`` answers 200 and ready, else
    ``"not_ready"``. Raises ApiError as :func:`readiness` does."""
    return "ready" if readiness(configuration, secrets)["ready"] else "not_ready"


def health(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``GET /health``: returns its body (``status``, ``mode``, ``is_paused``, ``timestamp``; always 200
    while the process lives). Raises ApiError when unreachable or the body has no ``status``."""
    _, body = _client(configuration, secrets).json("GET", "/health")
    if not isinstance(body, dict) or "status" not in body:
        raise ApiError(f"/health: expected an object with 'status', got {str(body)[:80]!r}")
    return body


def health_status(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """Returns ``/health``'s ``status`` (``"healthy"`` while the API is up). Raises ApiError as :func:`health`."""
    return str(health(configuration, secrets)["status"])


def trader_state(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """``GET /state``: returns its body (``is_paused``, ``mode``, ``positions_count``, ``daily_pnl``,
    ``marketdata_connected``...). Raises ApiError when unreachable or the body is not an object."""
    _, body = _client(configuration, secrets).json("GET", "/state")
    if not isinstance(body, dict):
        raise ApiError(f"/state: expected a JSON object, got {str(body)[:80]!r}")
    return body


def is_paused(configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Returns the orchestrator's pause flag, ``/state``'s ``is_paused``. Raises ApiError when it is
    absent or not a boolean (naming the keys seen)."""
    state = trader_state(configuration, secrets)
    value = state.get("is_paused")
    if not isinstance(value, bool):
        raise ApiError(f"/state: expected boolean 'is_paused', got {value!r} (keys: {sorted(state)[:12]})")
    return value


def trading_mode(configuration: Configuration = None, secrets: Secrets = None) -> str:
    """Returns ``PAPER`` or ``LIVE`` as ``/health`` reports it. Raises ApiError as :func:`health`."""
    return str(health(configuration, secrets).get("mode", "")).upper()


def market_data_connected(configuration: Configuration = None, secrets: Secrets = None) -> bool:
    """Returns ``/state``'s ``marketdata_connected``: whether the market-data WebSocket is connected
    (a stalled socket still reads true: the client does not notice a blackhole). Raises ApiError when
    it is absent or not a boolean."""
    state = trader_state(configuration, secrets)
    value = state.get("marketdata_connected")
    if not isinstance(value, bool):
        raise ApiError(f"/state: expected boolean 'marketdata_connected', got {value!r} (keys: {sorted(state)[:12]})")
    return value


def wait_market_data(connected: bool = True, timeout: float = 0, interval: float = 0.1,
                     configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/state`` ``marketdata_connected`` reads ``connected``, up to ``timeout`` seconds (0:
    ``DETECT_TIMEOUT`` when waiting for a disconnect, ``WAIT_READY_TIMEOUT`` for a reconnect). Returns
    the wait's record; raises ConfigError for a non-boolean ``connected``, ConditionTimeout at the
    deadline."""
    if not isinstance(connected, bool):
        raise ConfigError(f"wait_market_data: connected must be true or false, got {connected!r}", key="connected")
    word = "connected" if connected else "disconnected"
    return _wait(f"market data to be {word}", f"marketdata_connected {str(connected).lower()}",
                 "recover" if connected else "detect", timeout, interval,
                 lambda: market_data_connected(configuration, secrets), lambda v: v is connected, configuration)


def _wait(what: str, expected: str, kind: str, timeout: float, interval: float, observe: Callable[[], Any],
          accept: Callable[[Any], bool], configuration: Configuration, hold: float = 0.0) -> Dict[str, Any]:
    skipped = dry_wait(what)
    if skipped is not None:
        return skipped
    result = wait_stable(observe, accept, hold=hold, timeout=wait_deadline(timeout, configuration, kind, what),
                         interval=interval, what=what)
    return require(result, expected).as_dict()


def wait_ready(timeout: float = 0, interval: float = 0.1, stable_for: float = 0,
               configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/ready`` answers 200 (the seed's ``wait_ready()``), up to ``timeout`` seconds
    (0: ``WAIT_READY_TIMEOUT``, default 90).

    ``stable_for`` > 0: 200 must hold on every poll for that many seconds in a row (a drop restarts
    the count): confirms a rollback against a service that has not yet noticed the fault it is
    recovering from. ``stable_for`` < 0 (auto): when the rollbacks of this drill really restored a
    dependency (the method did not get to), long enough for the target to have noticed the fault
    (three lock refresh periods, at most 12 s; see :func:`settle_time`); otherwise 0.

    Returns ``{"held", "what", "waited_s", "polls", "value", "held_at_wall", "history", "stable_for"}``.
    Raises ConditionTimeout at the deadline (with the last readiness seen), ApiError at once on a 401.
    """
    hold = float(stable_for)
    if hold < 0:
        hold = settle_time(configuration) if rollback_restored_something() else 0.0
    out = _wait("/ready to answer 200", "HTTP 200 with status 'ready'", "recover", timeout, interval,
                lambda: readiness(configuration, secrets), lambda r: r["ready"], configuration, hold=hold)
    out["stable_for"] = hold
    return out


def rollback_restored_something() -> bool:
    """True when a dependency was restored during this drill's rollbacks (the run was interrupted or
    its method failed before restoring), or when no evidence control records the drill (unknown)."""
    run = current_run()
    if run is None:
        return True
    phases = [i for i, e in enumerate(run.events) if e["event"] == "phase" and e["detail"] == "rollbacks"]
    if not phases:
        return False
    return any(e["event"] == "restored" for e in run.events[phases[-1]:])


def settle_time(configuration: Configuration = None) -> float:
    """How long a recovered target must stay ready to be trusted: returns three of its lock refresh
    periods (:func:`chaosaitrapp.deployment.timing.target_timing`), at most 12 s; 12 s when its refresh
    period is not known."""
    refresh = target_timing(configuration).lock_refresh
    return 12.0 if refresh is None else min(12.0, 3 * refresh)


def wait_not_ready(timeout: float = 0, interval: float = 0.1,
                   configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/ready`` answers 503 (the service noticed the fault), up to ``timeout`` seconds
    (0: ``DETECT_TIMEOUT``, default 30). Returns the wait's record (see :func:`wait_ready`); raises
    ConditionTimeout at the deadline, ApiError at once on a 401."""
    return _wait("/ready to answer 503", "HTTP 503 not_ready", "detect", timeout, interval,
                 lambda: readiness(configuration, secrets), lambda r: not r["ready"], configuration)


def wait_feed_loss_noticed(timeout: float = 0, interval: float = 0.1,
                           configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the target shows it noticed its market data is gone, by either of its two signs:
    ``/ready`` answers 503 (a heartbeat past ``HEARTBEAT_MAX``) or ``/state`` says ``marketdata_connected:
    false`` (its ticker was closed), up to ``timeout`` seconds (0: ``DETECT_TIMEOUT``). A target whose
    heartbeat is kept fresh by something other than ticks stays ready: its disconnect still counts. Returns
    the wait's record (``value``: ``{"ready", "marketdata_connected"}``); raises ConditionTimeout at the
    deadline."""
    def observe() -> Dict[str, Any]:
        return {"ready": readiness(configuration, secrets)["ready"],
                "marketdata_connected": market_data_connected(configuration, secrets)}

    return _wait("the target to notice its feed is gone", "/ready 503 or marketdata_connected false", "detect",
                 timeout, interval, observe, lambda v: not v["ready"] or v["marketdata_connected"] is False,
                 configuration)


def wait_paused(timeout: float = 0, interval: float = 0.1,
                configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/state`` says ``is_paused: true`` (the seed's ``assert_paused()``, fixed), up to
    ``timeout`` seconds (0: ``DETECT_TIMEOUT``, default 30). Returns the wait's record; raises
    ConditionTimeout at the deadline."""
    return _wait("is_paused to be true", "is_paused true", "detect", timeout, interval,
                 lambda: is_paused(configuration, secrets), lambda p: p is True, configuration)


def wait_resumed(timeout: float = 0, interval: float = 0.1,
                 configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/state`` says ``is_paused: false`` (the seed's ``assert_resumed()``, fixed), up to
    ``timeout`` seconds (0: ``WAIT_READY_TIMEOUT``, default 90). Returns the wait's record; raises
    ConditionTimeout at the deadline."""
    return _wait("is_paused to be false", "is_paused false", "recover", timeout, interval,
                 lambda: is_paused(configuration, secrets), lambda p: p is False, configuration)


def wait_healthy(timeout: float = 10, interval: float = 0.1,
                 configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until ``/health`` answers 200 ``healthy`` (the API process is alive: it must stay so during
    a dependency outage), up to ``timeout`` seconds (default 10; 0: ``DETECT_TIMEOUT``). Returns the
    wait's record; raises ConditionTimeout at the deadline."""
    return _wait("/health to answer healthy", "status 'healthy'", "detect", timeout, interval,
                 lambda: health_status(configuration, secrets), lambda s: s == "healthy", configuration)


def stays_healthy(duration: float = 3, interval: float = 0.1,
                  configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Watch ``/health`` for ``duration`` seconds (holding a fault open meanwhile): every answer must be
    200 ``healthy``. Returns ``{"healthy_throughout": True, "watched_s", "answers"}``; raises
    ConditionTimeout at the first answer that is not healthy, ApiError when the API stops answering."""
    duration = check_duration("duration", duration)
    skipped = dry_wait("/health to stay healthy")
    if skipped is not None:
        return skipped
    seen = []

    def observe() -> str:
        status = health_status(configuration, secrets)
        seen.append(status)
        if status != "healthy":
            raise ConditionTimeout(f"/health answered {status!r} during the outage (expected 'healthy')")
        return status

    result = wait_until(observe, lambda _: False, timeout=duration, interval=interval,
                        what="/health to stay healthy", tolerate=())
    return {"healthy_throughout": True, "watched_s": round(result.waited_s, 3), "answers": len(seen)}


def answers_throughout(duration: float = 10, answer_max: float = 8, paths: List[str] = None,
                       interval: float = 0.2, configuration: Configuration = None,
                       secrets: Secrets = None) -> Dict[str, Any]:
    """Watch the API for ``duration`` seconds while a dependency hangs (holding the fault open meanwhile):
    every ``GET`` of each of ``paths`` (default ``/health`` and ``/orders``) must answer within ``answer_max`` seconds, ``/health`` with 200
    ``healthy``, any other path with any status (a 503 is an honest answer; a request that waits as long as
    the dependency does is none). Returns ``{"answered_throughout": True, "watched_s", "answers",
    "slowest_s": {path: seconds}}``, each request an ``answer`` event on the timeline (its path, status,
    time, and the limit: :mod:`chaosaitrapp.checks.hang` judges them); raises ConditionTimeout at the first request not answered in time (naming
    it, and when), or the first ``/health`` that is not healthy."""
    duration = check_duration("duration", duration)
    limit = check_duration("answer_max", answer_max, allow_zero=False)
    paths = ["/health", "/orders"] if paths is None else paths
    if isinstance(paths, str) or not paths or not all(isinstance(p, str) and p.startswith("/") for p in paths):
        raise ConfigError(f"paths must be a list of API paths starting with '/', got {paths!r}", key="paths")
    skipped = dry_wait("the API to keep answering")
    if skipped is not None:
        return skipped
    client = _client(configuration, secrets).fork(http_timeout=limit)
    slowest = {path: 0.0 for path in paths}
    began = time.monotonic()
    answers = 0

    def observe() -> int:
        nonlocal answers
        for path in paths:
            sent = time.monotonic()
            try:
                response = client.request("GET", path, expect=tuple(range(200, 600)))
            except ApiError as exc:
                if exc.context.get("status") is not None:
                    raise  # it answered, with something no watch can judge (401: the key)
                record_event("answer", "api", f"GET {path}: no answer", path=path, answered=False,
                             took_s=round(time.monotonic() - sent, 3), limit_s=limit)
                raise ConditionTimeout(f"GET {path} gave no answer within {limit:g}s, "
                                       f"{sent - began:.1f}s into the hang ({exc})") from None
            took = time.monotonic() - sent
            record_event("answer", "api", f"GET {path}: {response.status_code}", path=path, answered=True,
                         status=response.status_code, took_s=round(took, 3), limit_s=limit)
            slowest[path] = max(slowest[path], round(took, 3))
            answers += 1
            if path == "/health":
                status = _health_of(response)
                if status != "healthy":
                    raise ConditionTimeout(f"/health answered {status!r} during the hang (expected 'healthy')")
        return answers

    result = wait_until(observe, lambda _: False, timeout=duration, interval=interval,
                        what="the API to keep answering", tolerate=())
    return {"answered_throughout": True, "watched_s": round(result.waited_s, 3), "answers": answers,
            "slowest_s": slowest}


def _health_of(response: Any) -> str:
    """``/health``'s ``status`` from ``response``, or what it answered instead."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, not JSON"
    status = body.get("status") if isinstance(body, dict) else None
    return str(status) if response.status_code == 200 else f"HTTP {response.status_code} {status}"
