"""Actions and probes of the crash drills: arm a crash point, kill the trader when an order reaches it, start the
trader again as it ran, and watch it converge to the broker's truth.

The broker fault proxy sees the instant (:mod:`chaosaitrapp.broker.proxy.faults`):

- ``after_broker_ack``: a ``hold_reply`` fault; the broker accepts the first placement, the proxy holds its
  reply, and the trader is killed while it waits for it (the reply is then lost);
- ``after_reply``: the same hold; the reply is let go (the fault cleared: the proxy answers the DELETE once the
  reply has left) and the trader is killed ``delay_ms`` later, before it can record what it heard;
- ``queue_full``: a ``rate_limit`` fault; every placement gets 429, so the orders the API acknowledged wait in
  the trader's queue, and it is killed once the broker has refused one of them;
- ``mid_leader_change`` (two or more replicas, the drill's ``API`` leading): the leader is killed as at
  ``after_broker_ack``; the lock key is then watched until another grant appears in it (a standby won ``SET NX``
  once the dead leader's key ran out) and the replica that won is killed ``delay_ms`` after that, before it
  could reconcile or trade; every replica killed is started again as it ran.

The restart is a fault of the ledger from the moment the crash is armed (its recipe: start the trader as it
ran), so a run that dies at any step leaves the trader started again by the watchdog or ``aitrapp-chaos
cleanup``; a rollback starts it when this run killed it and did not start it again.
"""
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from chaoslib.types import Configuration, Secrets

from chaosaitrapp.broker.actions import clear_broker_faults, inject_broker_fault
from chaosaitrapp.broker.client import ProxyClient
from chaosaitrapp.checks.crash import in_doubt
from chaosaitrapp.config import settings_from
from chaosaitrapp.crash.target import CrashTarget, crash_target, restartable, target_of
from chaosaitrapp.dependencies.drivers import target_lock_reader
from chaosaitrapp.deployment.lock import lock_key
from chaosaitrapp.deployment.replicas import Replica, leader_values, replicas_of, the_leader
from chaosaitrapp.errors import ChaosAitrappError, ConfigError, TargetError
from chaosaitrapp.evidence.recorder import dry_wait, record_event, wait_deadline
from chaosaitrapp.metrics.probes import leader_status
from chaosaitrapp.orders.probes import list_orders, run_order_prefix
from chaosaitrapp.safety.faults import register_fault, restore_faults
from chaosaitrapp.safety.guards import require_paper_only
from chaosaitrapp.waiting import check_duration, pace_until, require, wait_until

__all__ = ["arm_crash", "crash_trader", "restart_trader", "wait_reconciled", "end_crash"]

#: The crash points, and the broker fault each arms at the proxy.
CRASH_POINTS = {"after_broker_ack": "hold_reply", "after_reply": "hold_reply", "queue_full": "rate_limit",
                "mid_leader_change": "hold_reply"}
#: How often the lock key is read while a new leader is awaited (seconds).
WIN_POLL_S = 0.002
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
    kills: List[Tuple[CrashTarget, int]] = field(default_factory=list)  # noted before each signal left
    standbys: List[CrashTarget] = field(default_factory=list)  # mid_leader_change: the other replicas
    replicas: List[Replica] = field(default_factory=list)
    standbys_pending: bool = False  # started again only once a replica leads

    def everyone(self) -> List[CrashTarget]:
        """The leader and (``mid_leader_change``) every standby: the traders this crash may kill."""
        return [self.target] + self.standbys


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
    replicas: List[Replica] = []
    if point == "mid_leader_change":
        target, standbys, replicas = leader_and_standbys(configuration, secrets)
        if target_lock_reader(configuration, secrets) is None:
            raise ConfigError("crash point mid_leader_change watches the lock key for the new leader's grant: no way "
                              "to read it is known (LOCK_REDIS, the REDIS_URL secret or REDIS_TARGET)", key="lock_redis")
    else:
        target, standbys = crash_target(configuration), []
    client = ProxyClient.from_configuration(configuration)
    client.health()
    entry = register_fault("crash trader", target.describe(), target.driver.undo(), lease_s,
                           restart_env=target.restart_env())
    for standby in standbys:
        register_fault("crash trader", standby.describe(), standby.driver.undo(), lease_s,
                       restart_env=standby.restart_env())
    try:
        kind = CRASH_POINTS[point]
        params = {"count": 1} if kind == "hold_reply" else {"retry_after": 1.0}
        fault = inject_broker_fault(kind, duration=max(10.0, lease_s - 30.0), params=params,
                                    configuration=configuration, secrets=secrets)
    except BaseException:
        for each in [target] + standbys:
            restore_faults(each.describe(), each.driver, 60.0)
        raise
    with _LOCK:
        _ARMED.append(Armed(point, target, str(fault["fault_id"]), time.time(), standbys=standbys,
                            replicas=replicas))
    return {"point": point, "target": target.describe(), "fault_id": fault["fault_id"], "ledger_entry": entry}


def leader_and_standbys(configuration: Configuration,
                         secrets: Secrets) -> Tuple[CrashTarget, List[CrashTarget], List[Replica]]:
    """``mid_leader_change``: the leading replica (the drill's ``API``, where its orders go), every other one, each
    a trader that can be started again, and the replicas. ConfigError for fewer than two replicas, one with no
    restartable target or an ``API`` that does not lead; TargetNotFound for one that is not running."""
    replicas = replicas_of(configuration)
    if len(replicas) < 2:
        raise ConfigError("crash point mid_leader_change needs at least two replicas of the target (REPLICAS, "
                          "REPLICA_TARGETS; the lab: --replicas 2)", key="crash_point")
    missing = [r.name for r in replicas if not r.target]
    if missing:
        raise ConfigError(f"crash point mid_leader_change kills replicas and starts them again: REPLICA_TARGETS names "
                          f"none for {', '.join(missing)}", key="replica_targets")
    targets = [target_of(restartable(str(r.target), "replica_targets")) for r in replicas]
    values = leader_values(replicas, configuration, secrets, timeout=2.0)
    if values.get(replicas[0].name) != 1.0 or the_leader(values) != replicas[0].name:
        raise ConfigError(f"crash point mid_leader_change kills the leader the drill's orders go to, and API "
                          f"({replicas[0].api}) is not the one leader now (trader_is_leader: {values})", key="api")
    return targets[0], targets[1:], replicas


def require_not_live(configuration: Configuration = None, secrets: Secrets = None) -> None:
    """GuardRefused unless the trader reports PAPER mode: a crash drill kills no trader that trades real money."""
    require_paper_only(configuration, secrets, "to kill the trader", "a crash drill", "crash the trader")


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
    holder = None
    if armed.point == "mid_leader_change":  # the dead leader's own grant, to tell the next one from it
        reader = target_lock_reader(configuration, secrets)
        holder = reader.read(lock_key(configuration))[0] if reader is not None else None
    record_event("fault", target, f"SIGKILL at {armed.point}", dependency=TRADER, fault_name="crash", point=armed.point)
    armed.killed_wall = time.time()  # before the kill: a rollback that interrupts it must start the trader again
    pid = armed.target.kill(noted=lambda pid: armed.kills.append((armed.target, pid)))
    after_release = None if released is None else round((time.monotonic() - released) * 1000.0, 1)
    armed.killed_wall = time.time()
    record_event("fault_injected", target, f"killed (pid {pid}) at {armed.point}", dependency=TRADER,
                 fault_name="crash", point=armed.point, pid=pid, delay_ms=delay if released is not None else None,
                 dead_after_release_ms=after_release)
    clear_broker_faults(30, configuration, secrets)
    out = {"point": armed.point, "pid": pid, "reached_s": round(reached_s, 3), "killed_wall": armed.killed_wall}
    if armed.point == "mid_leader_change":
        out["new_leader"] = _kill_the_winner(armed, holder, delay, configuration, secrets)
    return out


def _kill_the_winner(armed: Armed, dead: Optional[str], delay: float, configuration: Configuration,
                     secrets: Secrets) -> Dict[str, Any]:
    """``mid_leader_change``: wait for another grant in the lock key than the dead leader's ``dead`` (a standby won
    ``SET NX``), then SIGKILL the standby that won ``delay`` ms after it was seen. TargetError when none wins in
    time (nothing more is killed)."""
    reader = target_lock_reader(configuration, secrets)
    if reader is None:
        raise TargetError("the lock key cannot be read: the new leader was not killed", target=armed.target.describe())
    key = lock_key(configuration)
    limit = settings_from(configuration).wait_ready_timeout
    won = wait_until(lambda: reader.read(key)[0], lambda holder: holder is not None and holder != dead,
                     timeout=limit, interval=WIN_POLL_S, what="a standby to win the leader lock")
    seen = time.monotonic()
    if not won.held:
        raise TargetError(f"no standby won the leader lock within {limit:g}s of the leader's death: the new leader was "
                          "not killed", target=armed.target.describe())
    standbys = armed.replicas[1:]
    if len(standbys) == 1:
        winner = armed.standbys[0]
    else:  # which one: the gauge of the replica that won (a few ms after its grant)
        found = wait_until(lambda: the_leader(leader_values(standbys, configuration, secrets)), bool, timeout=5.0,
                           interval=0.005, what="the replica that won to say so")
        if not found.held:
            raise TargetError("a standby won the leader lock but none reports leading: the new leader was not killed",
                              target=armed.target.describe())
        winner = armed.standbys[[r.name for r in standbys].index(found.value)]
    pace_until(seen + delay / 1000.0)
    record_event("fault", winner.describe(), "SIGKILL of the new leader", dependency=TRADER, fault_name="crash",
                 point=armed.point)
    pid = winner.kill(noted=lambda pid: armed.kills.append((winner, pid)))
    after = round((time.monotonic() - seen) * 1000.0, 1)
    record_event("fault_injected", winner.describe(), f"the new leader killed (pid {pid}) {after:.0f} ms after it won",
                 dependency=TRADER, fault_name="crash", point=armed.point, pid=pid, new_leader=True,
                 won_to_kill_ms=after)
    return {"target": winner.describe(), "pid": pid, "won_to_kill_ms": after}


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


def _start(armed: Armed, why: str, timeout: float, configuration: Configuration, secrets: Secrets, *,
           leader_first: bool = False) -> Dict[str, Any]:
    """Start the killed traders again as they ran. ``leader_first`` (``mid_leader_change`` after the crash): the old
    leader (the drill's ``API``) alone; the standbys wait until a replica leads again (:func:`wait_reconciled` starts
    them then, a rollback at once), so the deployment comes back as it was."""
    target = armed.target.describe()
    for killed, pid in armed.kills:  # a kill a rollback interrupted may still be under way
        killed.wait_gone(pid, timeout)
    stale = _stale_key(configuration, secrets)
    record_event("restore", target, f"start the trader again as it ran ({why})", dependency=TRADER)
    armed.standbys_pending = leader_first and bool(armed.standbys)
    for each in [armed.target] if armed.standbys_pending else armed.everyone():  # one never killed: ledger only
        restore_faults(each.describe(), each.driver, timeout)
    armed.restarted_wall = time.time()
    record_event("restored", target, "the trader runs and answers again", dependency=TRADER,
                 restarted_wall=armed.restarted_wall, **stale)
    return {"target": target, "restarted_wall": armed.restarted_wall, **stale}


def _start_standbys(armed: Armed, timeout: float) -> None:
    """Start the standbys of a ``mid_leader_change`` again as they ran (those never killed: their ledger entries only)."""
    for each in armed.standbys:
        restore_faults(each.describe(), each.driver, timeout)
    armed.standbys_pending = False
    record_event("standbys_started", ", ".join(t.describe() for t in armed.standbys), "the standbys run again",
                 dependency="standby")


def restart_trader(timeout: float = 60, configuration: Configuration = None, secrets: Secrets = None) -> Dict[str, Any]:
    """Start the trader this run killed again, as it ran (the ledger's recipe), wait until it answers, and clear
    the restart from the ledger; note whether the lock key still held its dead self's grant (AITRAPP's stale-key
    quirk: its own key blocks it until the TTL runs out). Returns ``{"target", "restarted_wall",
    "lock_held_at_restart", "stale_key_ms"}``; raises ConfigError when no crash is armed, TargetError when it
    does not answer within ``timeout``."""
    timeout = check_duration("timeout", timeout, allow_zero=False)
    armed = _last("restart_trader", restarted=False)
    return _start(armed, "after the crash", timeout, configuration, secrets, leader_first=True)


def _accepted_tags(client: ProxyClient, since_wall: float) -> Dict[str, Set[str]]:
    """The broker's order ids by tag, of the placements it accepted since ``since_wall`` (the proxy's history)."""
    accepted: Dict[str, Set[str]] = {}
    for record in client.history(since_wall):
        if record.get("kind") == "order" and record.get("by") == "upstream" and record.get("status") == 200 \
                and record.get("order_id"):
            accepted.setdefault(str(record.get("tag") or ""), set()).add(str(record["order_id"]))
    return accepted


def _leads(armed: Armed, configuration: Configuration, secrets: Secrets) -> bool:
    """True when the trader leads again (``mid_leader_change``: one of the replicas, whichever)."""
    if armed.replicas:
        return the_leader(leader_values(armed.replicas, configuration, secrets)) is not None
    return leader_status(configuration, secrets) == 1.0


def wait_reconciled(timeout: float = 60, interval: float = 0.2, configuration: Configuration = None,
                    secrets: Secrets = None) -> Dict[str, Any]:
    """From the restart on, wait (up to ``timeout`` s) until the trader leads again and no order of the drill is
    in doubt (:func:`in_doubt`, from the trader's ``/orders`` and the proxy's history of what the broker
    accepted), counting the orders in doubt at each read; ``mid_leader_change``: once a replica leads, the standbys
    are started again. Records ``leader_back`` (``leader_back_s`` after the
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
        if seen["leader_wall"] is None and _leads(armed, configuration, secrets):
            seen["leader_wall"] = time.time()
            back = round(seen["leader_wall"] - float(armed.restarted_wall or 0), 3)
            record_event("leader_back", target, f"leading again {back:.2f}s after the restart", dependency=TRADER,
                         leader_back_s=back)
            if armed.standbys_pending:
                _start_standbys(armed, timeout)
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
            if crash.standbys_pending:
                _start_standbys(crash, timeout)
            continue
        if crash.killed_wall is None:  # armed, never killed: its restart leaves the ledger, the trader untouched
            for each in crash.everyone():
                restore_faults(each.describe(), each.driver, timeout)
        else:
            started.append(_start(crash, "rollback", timeout, configuration, secrets)["target"])
    cleared = clear_broker_faults(30, configuration, secrets)
    return {"started": started, "cleared": cleared.get("cleared", 0)}
