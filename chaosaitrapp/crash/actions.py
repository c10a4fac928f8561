"""Actions and probes of the crash drills: arm a crash point, kill the trader when an order reaches it, start the
trader again as it ran, and watch it converge to the broker's truth.

The broker fault proxy sees the instant (:mod:`chaosaitrapp.broker.proxy.faults`):

- ``after_broker_ack``: a ``hold_reply`` fault; the broker accepts the first placement, the proxy holds its
  reply, and the trader is killed while it waits for it (the reply is then lost);
- ``after_reply``: the same hold; the reply is let go (the fault cleared: the proxy answers the DELETE once the
  reply has left) and the trader is killed ``delay_ms`` later, before it can record what it heard;
- ``queue_full``: a ``rate_limit`` fault; every placement gets 429, so the orders the API acknowledged wait in
  the trader's queue, and it is killed once the broker has refused one of them.

The restart is a fault of the ledger from the moment the crash is armed (its recipe: start the trader as it
ran), so a run that dies at any step leaves the trader started again by the watchdog or ``aitrapp-chaos
cleanup``; a rollback starts it when this run killed it and did not start it again.
"""
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.api.client import TraderClient
from chaosaitrapp.broker.actions import clear_broker_faults, inject_broker_fault
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.checks.crash import in_doubt
from chaosaitrapp.config import settings_from
from chaosaitrapp.crash.target import CrashTarget, crash_target
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.lock import lock_key
from chaosaitrapp.errors import ChaosAitrappError, ConfigError, GuardRefused, TargetError
from chaosaitrapp.evidence.recorder import dry_wait, record_event, wait_deadline
from chaosaitrapp.metrics.probes import leader_status
from chaosaitrapp.orders.probes import list_orders, run_order_prefix
from chaosaitrapp.safety.faults import register_fault, restore_faults
from chaosaitrapp.safety.guards import reported_mode
from chaosaitrapp.waiting import check_duration, pace_until, require, wait_until

__all__ = ["arm_crash", "crash_trader", "restart_trader", "wait_reconciled", "end_crash"]

#: The crash points, and the broker fault each arms at the proxy.
CRASH_POINTS = {"after_broker_ack": "hold_reply", "after_reply": "hold_reply", "queue_full": "rate_limit"}
#: The longest ``after_reply`` delay (milliseconds).
MAX_DELAY_MS = 1000.0
#: The dependency name of the crash's events.
TRADER = "trader"

_LOCK = threading.Lock()


@dataclass
class Armed:
    """A crash this run armed: the point, the trader, the proxy fault that marks the instant, and what became of
    it (killed, started again)."""

    point: str
    target: CrashTarget
    fault_id: str
    armed_wall: float
    killed_wall: Optional[float] = None
    restarted_wall: Optional[float] = None
    pids: List[int] = field(default_factory=list)


_ARMED: List[Armed] = []


def check_point(point: Any) -> str:
    """``point`` as a crash point; ConfigError naming the known ones."""
    text = str(point or "").strip()
    if text not in CRASH_POINTS:
        raise ConfigError(f"unknown crash point {point!r}; known: {', '.join(CRASH_POINTS)}", key="crash_point")
    return text


def check_delay(delay_ms: Any) -> float:
    """``delay_ms`` as milliseconds in [0, 1000]; ConfigError otherwise."""
    try:
        delay = float(delay_ms)
    except (TypeError, ValueError):
        delay = -1.0
    if not 0 <= delay <= MAX_DELAY_MS:
        raise ConfigError(f"crash_delay_ms must be a number of milliseconds from 0 to {MAX_DELAY_MS:g}, got "
                          f"{delay_ms!r}", key="crash_delay_ms")
    return delay


def _last(what: str, restarted: Optional[bool] = None) -> Armed:
    with _LOCK:
        found = [a for a in _ARMED if restarted is None or (a.restarted_wall is not None) == restarted]
    if not found:
        raise ConfigError(f"{what} follows an arm_crash of the same run, and this run armed none", key="crash_point")
    return found[-1]


def arm_crash(point: str = "after_broker_ack", lease: float = 0, configuration: Configuration = None,
              secrets: Secrets = None) -> Dict[str, Any]:
    """Arm crash ``point`` (module docstring): read how the trader runs (to start it again so), record its restart
    in the fault ledger (lease ``lease`` seconds, 0: ``AITRAPP_FAULT_LEASE``), and inject the broker fault that marks the instant.
    Returns ``{"point", "target", "fault_id", "ledger_entry"}``. Raises ConfigError for an unknown point, a
    trader that cannot be started again or no broker fault proxy (nothing is touched); GuardRefused for a
    trader not in PAPER mode (never killed with real orders in flight, ``AITRAPP_ALLOW_LIVE`` or not);
    TargetNotFound when the trader is not running; TargetError when the proxy does not answer."""
    point = check_point(point)
    lease_s = check_duration("lease", lease) or settings_from(configuration).fault_lease
    require_not_live(configuration, secrets)
    target = crash_target(configuration)
    client = ProxyClient.from_configuration(configuration)
    client.health()
    entry = register_fault("crash trader", target.describe(), target.driver.undo(), lease_s,
                           restart_env=target.restart_env())
    try:
        kind = CRASH_POINTS[point]
        params = {"count": 1} if kind == "hold_reply" else {"retry_after": 1.0}
        fault = inject_broker_fault(kind, duration=max(10.0, lease_s - 30.0), params=params,
                                    configuration=configuration, secrets=secrets)
    except BaseException:
        restore_faults(target.describe(), target.driver, 60.0)
        raise
    with _LOCK:
        _ARMED.append(Armed(point, target, str(fault["fault_id"]), time.time()))
    return {"point": point, "target": target.describe(), "fault_id": fault["fault_id"], "ledger_entry": entry}


def require_not_live(configuration: Configuration = None, secrets: Secrets = None) -> None:
    """GuardRefused unless the trader reports PAPER mode: a crash drill kills no trader that trades real money."""
    mode = reported_mode(TraderClient.from_configuration(configuration, secrets))
    if mode != "PAPER":
        raise GuardRefused(f"refusing to kill the trader: it reports {mode} mode; a crash drill runs only against a "
                           "trader in PAPER mode (AITRAPP_ALLOW_LIVE does not change that)", mode=mode,
                           action="crash the trader")


def _hits(client: ProxyClient, fault_id: str) -> int:
    return next((int(f.get("hits") or 0) for f in client.active() if f.get("id") == fault_id), 0)


def crash_trader(delay_ms: float = 0, timeout: float = 0, configuration: Configuration = None,
                 secrets: Secrets = None) -> Dict[str, Any]:
    """Wait (up to ``timeout`` s, 0: ``DETECT_TIMEOUT``) until an order reaches the armed crash point, then
    SIGKILL the trader there (``after_reply``: ``delay_ms`` after its reply was let go), then clear the drill's
    broker faults. Returns ``{"point", "pid", "reached_s", "killed_wall"}``; raises ConfigError when no crash is
    armed, TargetError when no order reaches the point in time (nothing is killed)."""
    delay = check_delay(delay_ms)
    armed = _last("crash_trader", restarted=False)
    skipped = dry_wait(f"an order to reach {armed.point}")
    if skipped is not None:
        return skipped
    client = ProxyClient.from_configuration(configuration)
    began = time.monotonic()
    reached = wait_until(lambda: _hits(client, armed.fault_id), lambda hits: hits >= 1,
                         timeout=wait_deadline(timeout, configuration, "detect", f"an order to reach {armed.point}"),
                         interval=0.01, what=f"an order to reach {armed.point}")
    if not reached.held:
        raise TargetError(f"no order reached the crash point {armed.point} within {reached.waited_s:.0f}s: did the "
                          "orders reach the broker through the fault proxy (BROKER_PROXY)? the trader was not killed",
                          target=armed.target.describe())
    reached_s = time.monotonic() - began
    released = None
    if armed.point == "after_reply":
        client.clear(armed.fault_id)  # answered once the held reply has left for the trader
        released = time.monotonic()
        pace_until(released + delay / 1000.0)
    target = armed.target.describe()
    record_event("fault", target, f"SIGKILL at {armed.point}", dependency=TRADER, fault_name="crash", point=armed.point)
    pid = armed.target.kill()
    after_release = None if released is None else round((time.monotonic() - released) * 1000.0, 1)
    armed.killed_wall = time.time()
    armed.pids.append(pid)
    record_event("fault_injected", target, f"killed (pid {pid}) at {armed.point}", dependency=TRADER,
                 fault_name="crash", point=armed.point, pid=pid, delay_ms=delay if released is not None else None,
                 dead_after_release_ms=after_release)
    clear_broker_faults(30, configuration, secrets)
    return {"point": armed.point, "pid": pid, "reached_s": round(reached_s, 3), "killed_wall": armed.killed_wall}


def _stale_key(configuration: Configuration, secrets: Secrets) -> Dict[str, Any]:
    """The lock key as the restarted trader finds it: held (by its dead self, when it led) and for how long."""
    try:
        reader = target_lock_reader(configuration, secrets)
        if reader is None:
            return {}
        holder, pttl = reader.read(lock_key(configuration))
    except ChaosAitrappError as exc:
        return {"stale_key_error": str(exc)}
    return {"lock_held_at_restart": holder is not None, "stale_key_ms": pttl if holder is not None else 0}


def _start(armed: Armed, why: str, timeout: float, configuration: Configuration, secrets: Secrets) -> Dict[str, Any]:
    target = armed.target.describe()
    stale = _stale_key(configuration, secrets)
    record_event("restore", target, f"start the trader again as it ran ({why})", dependency=TRADER)
    restore_faults(target, armed.target.driver, timeout)
    armed.restarted_wall = time.time()
    record_event("restored", target, "the trader runs and answers again", dependency=TRADER,
                 restarted_wall=armed.restarted_wall, **stale)
    return {"target": target, "restarted_wall": armed.restarted_wall, **stale}


def restart_trader(timeout: float = 60, configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Start the trader this run killed again, as it ran (the ledger's recipe), wait until it answers, and clear
    the restart from the ledger; note whether the lock key still held its dead self's grant (AITRAPP's stale-key
    quirk: its own key blocks it until the TTL runs out). Returns ``{"target", "restarted_wall",
    "lock_held_at_restart", "stale_key_ms"}``; raises ConfigError when no crash is armed, TargetError when it
    does not answer within ``timeout``."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    armed = _last("restart_trader", restarted=False)
    return _start(armed, "after the crash", timeout, configuration, secrets)


def _accepted_tags(client: ProxyClient, since_wall: float) -> Dict[str, Set[str]]:
    """The broker's order ids by tag, of the placements it accepted since ``since_wall`` (the proxy's history)."""
    accepted: Dict[str, Set[str]] = {}
    for record in client.history(since_wall):
        if record.get("kind") == "order" and record.get("by") == "upstream" and record.get("status") == 200 \
                and record.get("order_id"):
            accepted.setdefault(str(record.get("tag") or ""), set()).add(str(record["order_id"]))
    return accepted


def wait_reconciled(timeout: float = 60, interval: float = 0.2, configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """From the restart on, wait (up to ``timeout`` s) until the trader leads again and no order of the drill is
    in doubt (:func:`in_doubt`, from the trader's ``/orders`` and the proxy's history of what the broker
    accepted), counting the orders in doubt at each read. Records ``leader_back`` (``leader_back_s`` after the
    restart: what its own stale lock key cost) and ``reconciled`` (``reconciled_s`` after the restart,
    ``in_doubt_max``) or ``reconcile_timeout`` (the orders still in doubt). Returns the wait's record; raises
    ConfigError when this run restarted no trader, ConditionTimeout at the deadline."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    skipped = dry_wait("every order of the drill to be reconciled")
    if skipped is not None:
        return skipped
    armed = _last("wait_reconciled", restarted=True)
    prefix = run_order_prefix() or ""
    client = ProxyClient.from_configuration(configuration)
    target = armed.target.describe()
    seen: Dict[str, Any] = {"worst": 0, "leader_wall": None, "series": []}

    def observe() -> List[str]:
        if seen["leader_wall"] is None and leader_status(configuration, secrets) == 1.0:
            seen["leader_wall"] = time.time()
            back = round(seen["leader_wall"] - float(armed.restarted_wall or 0), 3)
            record_event("leader_back", target, f"leading again {back:.2f}s after the restart", dependency=TRADER,
                         leader_back_s=back)
        doubt = in_doubt(list_orders(configuration, secrets), _accepted_tags(client, armed.armed_wall), prefix)
        seen["worst"] = max(seen["worst"], len(doubt))
        if not seen["series"] or seen["series"][-1][1] != len(doubt):
            seen["series"].append([round(time.time(), 3), len(doubt)])
        return doubt if seen["leader_wall"] is not None else doubt + ["(the trader does not lead yet)"]

    result = wait_until(observe, lambda doubt: not doubt, timeout=timeout, interval=interval,
                        what="the trader leading and no order of the drill in doubt")
    if result.held:
        reconciled = round(float(result.held_at_wall) - float(armed.restarted_wall or 0), 3)
        record_event("reconciled", target, f"no order in doubt {reconciled:.2f}s after the restart", dependency=TRADER,
                     reconciled_s=reconciled, in_doubt_max=seen["worst"], in_doubt_series=seen["series"][-500:])
    else:
        record_event("reconcile_timeout", target, f"orders still in doubt {timeout:g}s after the restart",
                     dependency=TRADER, in_doubt=list(result.value or [])[:20], in_doubt_max=seen["worst"],
                     in_doubt_series=seen["series"][-500:], timeout_s=timeout)
    out = require(result, "the trader leading, no order of the drill in doubt").as_dict()
    return {**out, "in_doubt_max": seen["worst"]}


def end_crash(timeout: float = 60, configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Rollback: start again every trader this run killed and did not start (as it ran), clear the restarts it
    armed from the ledger (a trader never killed is left as it runs), and the drill's broker faults. Idempotent.
    Returns ``{"started", "cleared"}``; raises TargetError when a trader does not answer (its ledger entry stays,
    for the watchdog and cleanup)."""
    with _LOCK:
        armed, _ARMED[:] = list(_ARMED), []
    started = []
    for crash in armed:
        if crash.restarted_wall is not None:
            continue
        if crash.killed_wall is None:  # armed, never killed: its restart leaves the ledger, the trader untouched
            restore_faults(crash.target.describe(), crash.target.driver, timeout)
        else:
            started.append(_start(crash, "rollback", timeout, configuration, secrets)["target"])
    cleared = clear_broker_faults(30, configuration, secrets)
    return {"started": started, "cleared": cleared.get("cleared", 0)}
