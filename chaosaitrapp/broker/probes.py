"""Probes on the path between the target and its broker: the fault proxy's faults and counters, the
target's own count of its broker-session refreshes, and the refreshes the broker saw.

The refresh count is AITRAPP's ``trader_retries_total{type="token_refresh"}`` (0 while the counter has
no such label yet); the proxy's figures come from its control API
(:mod:`chaosaitrapp.broker.proxy.server`).
"""

from typing import Any, Dict, List, Optional

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.api.metrics import parse_metrics
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.checks.broker import broker_refreshes
from chaosaitrapp.checks.events import restore_began
from chaosaitrapp.checks.feed import resubscription
from chaosaitrapp.checks.timeline import FAULT_EVENTS
from chaosaitrapp.errors import ConfigError, MetricsError
from chaosaitrapp.evidence.observe import token_refreshes as count
from chaosaitrapp.evidence.recorder import current_run, dry_wait, wait_deadline
from chaosaitrapp.waiting import require, wait_until

__all__ = ["broker_faults", "broker_stats", "token_refreshes", "wait_feed_resubscribed", "wait_token_refreshed"]


def broker_faults(configuration: Configuration = None, secrets: Secrets = None) -> List[Dict[str, Any]]:
    """Returns the faults active at the drill's fault proxy (``kind``, ``id``, ``params``, ``lease_s``,
    ``hits``, ``biting``...; never a token). Raises ConfigError when no proxy is known, TargetError when
    it is unreachable."""
    return ProxyClient.from_configuration(configuration).active()


def broker_stats(configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Returns the fault proxy's counters (``requests``, ``orders``, ``refused_by_fault``,
    ``upstream_errors``, ``ws_opened``, ``ws_refused``, ``open_sockets``, ``active_faults``...). Raises
    as :func:`broker_faults`."""
    return ProxyClient.from_configuration(configuration).stats()


def token_refreshes(configuration: Configuration = None, secrets: Secrets = None) -> float:
    """Returns how many broker token refreshes the target has counted
    (``trader_retries_total{type="token_refresh"}``). Raises MetricsError when the target has no
    ``trader_retries_total`` at all, ApiError when ``/metrics`` cannot be read."""
    client = TraderClient.from_configuration(configuration, secrets)
    value = count(parse_metrics(client.text("/metrics"), source=f"{client.base}/metrics"))
    if value is None:
        raise MetricsError(f"{client.base}/metrics has no trader_retries_total: the target does not count its "
                           "token refreshes", metric="trader_retries_total")
    return value


def wait_token_refreshed(increase: int = 1, timeout: float = 0, interval: float = 0.1,
                         configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until the broker saw the target refresh its session: at least ``increase`` new sessions made
    at the broker (``POST /session/token`` answered 200, through the broker fault proxy) after this run's
    first fault, and a token it had not used before in use after the first of them, up to ``timeout``
    seconds (0: ``DETECT_TIMEOUT``). What the broker saw, not the target's own counter: a target that counts
    a refused call as a refresh makes no session. Returns the wait's record plus ``sessions`` and
    ``new_token``; raises ConfigError for an ``increase`` below 1, when no fault was injected in this run
    before it or no broker fault proxy is known, ConditionTimeout at the deadline (no session, or its token
    never used)."""
    if not isinstance(increase, int) or isinstance(increase, bool) or increase < 1:
        raise ConfigError(f"wait_token_refreshed: increase must be a whole number from 1, got {increase!r}",
                          key="increase")
    what = f"{increase} new broker session(s) and the new token in use"
    skipped = dry_wait(what)
    if skipped is not None:
        return skipped
    times = _fault_and_restore_wall()
    if times is None:
        raise ConfigError("wait_token_refreshed: no fault was injected in this run before it")
    fault = times[0]
    client = ProxyClient.from_configuration(configuration)
    since = current_run().started_wall  # type: ignore[union-attr]

    def observe() -> Dict[str, Any]:
        records = [{**item, "what": item.get("kind"), "t": float(item.get("wall", 0))}
                   for item in client.history(since_wall=since)]
        sessions, new_token = broker_refreshes(records, fault)
        return {"sessions": len(sessions), "new_token": new_token is not None}

    result = wait_until(observe, lambda v: v["sessions"] >= increase and v["new_token"],
                        timeout=wait_deadline(timeout, configuration, "detect", what), interval=interval, what=what)
    seen = result.value or {"sessions": 0, "new_token": False}
    out = require(result, f"{increase} session(s) made at the broker after the fault and the new token used "
                          f"(seen: {seen['sessions']} session(s), new token used: {seen['new_token']})").as_dict()
    out.update(seen)
    return out


def _fault_and_restore_wall() -> Optional[tuple]:
    """(wall time of this run's first fault event, of the instant its last restore began), or None without a
    fault (:func:`chaosaitrapp.checks.events.restore_began`)."""
    run = current_run()
    events = run.events if run is not None else []
    fault = next((float(e["wall"]) for e in events if e.get("event") in FAULT_EVENTS), None)
    if fault is None:
        return None
    began = restore_began(events, fault, key="wall")
    return fault, float(began["wall"]) if began else fault


def wait_feed_resubscribed(timeout: float = 0, interval: float = 0.1, configuration: Configuration = None,
                           secrets: Secrets = None) -> Dict[str, Any]:
    """Wait until, after this run's last restore, the broker fault proxy has passed the target a tick of
    every instrument its ticker sockets had subscribed when the run's first fault came (the reading of
    the ``feed_resubscribed`` check, :func:`chaosaitrapp.checks.broker.resubscription`), up to ``timeout``
    seconds (0: ``WAIT_READY_TIMEOUT``): "connected again" is not "streaming again". Returns the wait's
    record plus ``subscribed`` and ``missing`` (instrument tokens); raises ConfigError when no fault was injected
    in this run before it or no broker fault proxy is known, ConditionTimeout at the deadline (the target
    did not resubscribe them all)."""
    what = "a tick of every instrument subscribed before the fault"
    skipped = dry_wait(what)
    if skipped is not None:
        return skipped
    times = _fault_and_restore_wall()
    if times is None:
        raise ConfigError("wait_feed_resubscribed: no fault was injected in this run before it")
    fault, restore = times
    client = ProxyClient.from_configuration(configuration)
    since = current_run().started_wall  # type: ignore[union-attr]

    def observe() -> Dict[str, Any]:
        records = [{**item, "what": item.get("kind"), "t": float(item.get("wall", 0))}
                   for item in client.history(since_wall=since)]
        subscribed, ticked = resubscription(records, fault, restore)
        return {"subscribed": sorted(subscribed), "missing": sorted(subscribed - set(ticked))}

    result = wait_until(observe, lambda v: bool(v["subscribed"]) and not v["missing"],
                        timeout=wait_deadline(timeout, configuration, "recover", what), interval=interval, what=what)
    out = require(result, "every subscribed instrument ticked again").as_dict()
    out.update(result.value or {})
    return out
